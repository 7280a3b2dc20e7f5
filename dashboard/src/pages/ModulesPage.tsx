import { Link } from "react-router-dom";
import { Alert } from "../components/ui/alert";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "../components/ui/table";
import { useLive } from "../lib/live";
import { useSession } from "../lib/session";
import type { AdminModule } from "../lib/types";
import { useFetched } from "../lib/useFetched";
import { ModuleToggle } from "./ModuleToggle";
import { StatusBadge } from "./StatusBadge";

export function ModulesPage() {
  const { holds } = useSession();
  const { modulesVersion } = useLive();
  const modules = useFetched<AdminModule[]>("/api/admin/modules", [modulesVersion]);
  const manage = holds("modules:manage");

  return (
    <Card>
      <CardHeader>
        <CardTitle>Modules</CardTitle>
        <CardDescription>What this project has installed, and how each one runs on this host.</CardDescription>
      </CardHeader>
      <CardContent>
        {modules.error ? <Alert tone="danger" title="Could not list the modules">{modules.error.message}</Alert> : null}
        {modules.data ? (
          <Table data-testid="modules-table">
            <TableHeader>
              <TableRow>
                <TableHead>Module</TableHead>
                <TableHead>Version</TableHead>
                <TableHead>Status</TableHead>
                <TableHead>Source</TableHead>
                <TableHead>Compatibility</TableHead>
                <TableHead>Load</TableHead>
                <TableHead>Incidents</TableHead>
                <TableHead>Permissions</TableHead>
                {manage ? <TableHead /> : null}
              </TableRow>
            </TableHeader>
            <TableBody>
              {modules.data.map((module) => (
                <TableRow key={module.name} data-testid={`module-row-${module.name}`}>
                  <TableCell>
                    <Link className="font-medium text-sky-700 hover:underline" to={`/modules/${module.name}`}>
                      {module.name}
                    </Link>
                  </TableCell>
                  <TableCell className="tabular-nums">{module.version}</TableCell>
                  <TableCell>
                    <StatusBadge status={module.status} />
                    {module.reason ? <p className="mt-1 max-w-xs text-xs text-red-700">{module.reason}</p> : null}
                  </TableCell>
                  <TableCell className="max-w-[16rem] truncate font-mono text-xs" title={module.resolved}>
                    {module.source}
                  </TableCell>
                  <TableCell>{module.compatible ? "ok" : <span className="text-red-700">{module.compatibility}</span>}</TableCell>
                  <TableCell className="tabular-nums">{module.loadMs === null ? "—" : `${module.loadMs.toFixed(0)} ms`}</TableCell>
                  <TableCell className="tabular-nums">{module.incidents}</TableCell>
                  <TableCell className="text-xs">
                    {module.permissions.filter((p) => p.status === "granted").length}/{module.permissions.length} granted
                  </TableCell>
                  {manage ? (
                    <TableCell>
                      <ModuleToggle module={module} onDone={modules.reload} />
                    </TableCell>
                  ) : null}
                </TableRow>
              ))}
            </TableBody>
          </Table>
        ) : null}
      </CardContent>
    </Card>
  );
}
