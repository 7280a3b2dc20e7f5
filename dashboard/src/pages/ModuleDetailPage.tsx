import { Link, useParams } from "react-router-dom";
import { Alert } from "../components/ui/alert";
import { Badge } from "../components/ui/badge";
import { Card, CardContent, CardHeader, CardTitle } from "../components/ui/card";
import { Stat } from "../components/ui/stat";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "../components/ui/table";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "../components/ui/tabs";
import { useLive } from "../lib/live";
import type { ModuleDetail, ValidationReport } from "../lib/types";
import { useFetched } from "../lib/useFetched";
import { ModuleMetricsTab } from "./ModuleMetricsTab";
import { StatusBadge } from "./StatusBadge";

interface OpenApi {
  paths: Record<string, Record<string, { summary?: string; description?: string; security?: unknown[] }>>;
}

const HTTP = ["get", "post", "put", "patch", "delete"];

/** The module's operations in the host's OpenAPI document (its declared routes, or the catch-all proxy). */
function routesOf(document: OpenApi, module: string): { method: string; path: string; summary: string }[] {
  const own = `/api/modules/${module}/`;
  const rows: { method: string; path: string; summary: string }[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    if (!path.startsWith(own) && !path.startsWith("/api/modules/{name}/")) continue;
    for (const method of HTTP) {
      const operation = operations[method];
      if (operation) rows.push({ method: method.toUpperCase(), path, summary: operation.summary ?? "" });
    }
  }
  // Declared routes first; the generic proxy only when the module declares none.
  const declared = rows.filter((row) => row.path.startsWith(own));
  return declared.length > 0 ? declared : rows;
}

function Empty({ children }: { children: string }) {
  return <p className="text-sm text-slate-500">{children}</p>;
}

export function ModuleDetailPage() {
  const { name = "" } = useParams();
  const { modulesVersion } = useLive();
  const detail = useFetched<ModuleDetail>(`/api/admin/modules/${encodeURIComponent(name)}`, [modulesVersion]);
  const validation = useFetched<ValidationReport>(`/api/admin/modules/${encodeURIComponent(name)}/validation`);
  const openapi = useFetched<OpenApi>("/openapi.json");

  if (detail.error) return <Alert tone="danger" title={`Module ${name}`}>{detail.error.message}</Alert>;
  if (!detail.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const { module } = detail.data;
  const routes = openapi.data ? routesOf(openapi.data, name) : [];

  return (
    <div className="flex flex-col gap-4">
      <div className="flex items-center gap-3">
        <Link to="/modules" className="text-sm text-sky-700 hover:underline">
          Modules
        </Link>
        <span className="text-slate-400">/</span>
        <h2 className="text-xl font-semibold">{module.name}</h2>
        <StatusBadge status={module.status} />
      </div>
      {module.reason ? <Alert tone="danger" title={module.status === "quarantined" ? "Quarantined" : "Not running"}>{module.reason}</Alert> : null}
      <div className="grid grid-cols-2 gap-4 md:grid-cols-4">
        <Stat label="Version" value={module.version} hint={`world ${detail.data.world}`} />
        <Stat label="Load time" value={module.loadMs === null ? "—" : `${module.loadMs.toFixed(0)} ms`} />
        <Stat label="Incidents" value={module.incidents} hint="recorded in the audit log" />
        <Stat label="Compatibility" value={module.compatible ? "ok" : "no"} hint={module.compatible ? undefined : module.compatibility} />
      </div>
      <Card>
        <CardContent className="pt-4">
          <Tabs defaultValue="routes">
            <TabsList>
              <TabsTrigger value="routes">Routes</TabsTrigger>
              <TabsTrigger value="permissions">Permissions</TabsTrigger>
              <TabsTrigger value="events">Events</TabsTrigger>
              <TabsTrigger value="services">Services</TabsTrigger>
              <TabsTrigger value="metrics">Metrics</TabsTrigger>
              <TabsTrigger value="validation">Validation</TabsTrigger>
              <TabsTrigger value="incidents">Incidents</TabsTrigger>
            </TabsList>
            <TabsContent value="routes">
              {routes.length === 0 ? (
                <Empty>No route in the OpenAPI document.</Empty>
              ) : (
                <Table data-testid="routes-table">
                  <TableHeader>
                    <TableRow>
                      <TableHead>Method</TableHead>
                      <TableHead>Path</TableHead>
                      <TableHead>Summary</TableHead>
                    </TableRow>
                  </TableHeader>
                  <TableBody>
                    {routes.map((route) => (
                      <TableRow key={`${route.method} ${route.path}`}>
                        <TableCell>
                          <Badge tone="info">{route.method}</Badge>
                        </TableCell>
                        <TableCell className="font-mono text-xs">{route.path}</TableCell>
                        <TableCell>{route.summary}</TableCell>
                      </TableRow>
                    ))}
                  </TableBody>
                </Table>
              )}
            </TabsContent>
            <TabsContent value="permissions">
              <Table data-testid="permissions-table">
                <TableHeader>
                  <TableRow>
                    <TableHead>Capability asked for</TableHead>
                    <TableHead>Why</TableHead>
                    <TableHead>Status</TableHead>
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {module.permissions.map((grant) => (
                    <TableRow key={grant.permission}>
                      <TableCell className="font-mono text-xs">{grant.permission}</TableCell>
                      <TableCell>{grant.reason}</TableCell>
                      <TableCell>
                        <Badge tone={grant.status === "granted" ? "success" : "warning"}>{grant.status}</Badge>
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
              <h4 className="mb-2 mt-4 text-sm font-medium">API permissions it declares</h4>
              {Object.keys(detail.data.apiPermissions).length === 0 ? (
                <Empty>None besides its base permission.</Empty>
              ) : (
                <ul className="text-sm">
                  {Object.entries(detail.data.apiPermissions).map(([permission, why]) => (
                    <li key={permission}>
                      <code className="font-mono text-xs">{permission}</code>: {why}
                    </li>
                  ))}
                </ul>
              )}
            </TabsContent>
            <TabsContent value="events">
              {detail.data.events.length === 0 ? (
                <Empty>Subscribes to no event.</Empty>
              ) : (
                <Table>
                  <TableHeader>
                    <TableRow>
                      <TableHead>Event</TableHead>
                      <TableHead>Delivery</TableHead>
                      <TableHead>Retries</TableHead>
                    </TableRow>
                  </TableHeader>
                  <TableBody>
                    {detail.data.events.map((event) => (
                      <TableRow key={event.event}>
                        <TableCell className="font-mono text-xs">{event.event}</TableCell>
                        <TableCell>{event.mode}</TableCell>
                        <TableCell>{event.maxRetries}</TableCell>
                      </TableRow>
                    ))}
                  </TableBody>
                </Table>
              )}
            </TabsContent>
            <TabsContent value="services">
              <h4 className="mb-1 text-sm font-medium">Offers</h4>
              {detail.data.services.provides.length === 0 ? <Empty>No service.</Empty> : (
                <ul className="font-mono text-xs">{detail.data.services.provides.map((s) => <li key={s}>{s}</li>)}</ul>
              )}
              <h4 className="mb-1 mt-3 text-sm font-medium">Depends on</h4>
              {Object.keys(detail.data.services.dependsOn).length === 0 ? <Empty>No other module.</Empty> : (
                <ul className="font-mono text-xs">
                  {Object.entries(detail.data.services.dependsOn).map(([dep, range]) => <li key={dep}>{dep} {range}</li>)}
                </ul>
              )}
            </TabsContent>
            <TabsContent value="metrics">
              <ModuleMetricsTab module={name} />
            </TabsContent>
            <TabsContent value="validation">
              {validation.error ? <Alert tone="danger">{validation.error.message}</Alert> : null}
              {validation.loading ? <Empty>Validating the installed copy…</Empty> : null}
              {validation.data ? (
                validation.data.findings.length === 0 ? (
                  <Alert tone="success" title="Passed">No finding.</Alert>
                ) : (
                  <Table data-testid="findings-table">
                    <TableHeader>
                      <TableRow>
                        <TableHead>Rule</TableHead>
                        <TableHead>Severity</TableHead>
                        <TableHead>Where</TableHead>
                        <TableHead>Finding</TableHead>
                      </TableRow>
                    </TableHeader>
                    <TableBody>
                      {validation.data.findings.map((finding, index) => (
                        <TableRow key={index}>
                          <TableCell className="font-mono text-xs">{finding.rule}</TableCell>
                          <TableCell>
                            <Badge tone={finding.severity === "error" ? (finding.allowed ? "warning" : "danger") : finding.severity === "warning" ? "warning" : "info"}>
                              {finding.allowed ? `${finding.severity} (allowed)` : finding.severity}
                            </Badge>
                          </TableCell>
                          <TableCell className="font-mono text-xs">{finding.file ? `${finding.file}:${finding.line ?? 0}` : (finding.subject ?? "")}</TableCell>
                          <TableCell>
                            {finding.message}
                            <p className="text-xs text-slate-500">{finding.fix}</p>
                          </TableCell>
                        </TableRow>
                      ))}
                    </TableBody>
                  </Table>
                )
              ) : null}
            </TabsContent>
            <TabsContent value="incidents">
              {detail.data.incidents.length === 0 ? (
                <Empty>No incident recorded.</Empty>
              ) : (
                <Table>
                  <TableHeader>
                    <TableRow>
                      <TableHead>When</TableHead>
                      <TableHead>What</TableHead>
                      <TableHead>Detail</TableHead>
                    </TableRow>
                  </TableHeader>
                  <TableBody>
                    {detail.data.incidents.map((incident, index) => (
                      <TableRow key={index}>
                        <TableCell className="whitespace-nowrap text-xs">{new Date(incident.at).toLocaleString()}</TableCell>
                        <TableCell>
                          <Badge tone={incident.action === "incident" ? "warning" : "danger"}>{incident.kind ?? incident.action}</Badge>
                        </TableCell>
                        <TableCell className="text-xs">{incident.detail}</TableCell>
                      </TableRow>
                    ))}
                  </TableBody>
                </Table>
              )}
            </TabsContent>
          </Tabs>
        </CardContent>
      </Card>
      {detail.data.views.length > 0 ? (
        <Card>
          <CardHeader>
            <CardTitle>Views</CardTitle>
          </CardHeader>
          <CardContent>
            <ul className="text-sm">
              {detail.data.views.map((view) => (
                <li key={view.id}>
                  <Link className="text-sky-700 hover:underline" to={`/views/${view.module}/${view.id}`}>
                    {view.title}
                  </Link>
                </li>
              ))}
            </ul>
          </CardContent>
        </Card>
      ) : null}
    </div>
  );
}
