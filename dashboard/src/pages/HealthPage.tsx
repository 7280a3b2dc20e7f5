import { Alert } from "../components/ui/alert";
import { Card, CardContent, CardHeader, CardTitle } from "../components/ui/card";
import { Stat } from "../components/ui/stat";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "../components/ui/table";
import { useLive } from "../lib/live";
import type { Health } from "../lib/types";
import { useFetched } from "../lib/useFetched";
import { StatusBadge } from "./StatusBadge";

const COUNTERS: [string, string][] = [
  ["syncDone", "Sync deliveries"],
  ["syncFailed", "Sync failures"],
  ["asyncDone", "Async deliveries"],
  ["asyncRetried", "Async retries"],
  ["deadLettered", "Dead letters"],
];

export function HealthPage() {
  const { modulesVersion } = useLive();
  const health = useFetched<Health>("/health", [modulesVersion]);
  if (health.error) return <Alert tone="danger" title="Health">{health.error.message}</Alert>;
  if (!health.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const { data } = health;
  return (
    <div className="flex flex-col gap-4">
      <div className="flex items-center gap-3">
        <h2 className="text-xl font-semibold">Host health</h2>
        <StatusBadge status={data.status} />
        <span className="text-sm text-slate-500">host {data.version}</span>
      </div>
      <div className="grid grid-cols-2 gap-4 md:grid-cols-5">
        {COUNTERS.map(([key, label]) => (
          <Stat key={key} label={label} value={typeof data.events[key] === "number" ? (data.events[key] as number) : 0} />
        ))}
      </div>
      <Card>
        <CardHeader>
          <CardTitle>Modules on this host</CardTitle>
        </CardHeader>
        <CardContent>
          <Table data-testid="health-table">
            <TableHeader>
              <TableRow>
                <TableHead>Module</TableHead>
                <TableHead>Version</TableHead>
                <TableHead>Status</TableHead>
                <TableHead>Load</TableHead>
                <TableHead>Error</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {data.modules.map((module) => (
                <TableRow key={module.name}>
                  <TableCell className="font-medium">{module.name}</TableCell>
                  <TableCell>{module.version}</TableCell>
                  <TableCell>
                    <StatusBadge status={module.status} />
                  </TableCell>
                  <TableCell className="tabular-nums">{module.loadMs === null ? "—" : `${module.loadMs.toFixed(0)} ms`}</TableCell>
                  <TableCell className="text-xs text-red-700">{module.error}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </CardContent>
      </Card>
    </div>
  );
}
