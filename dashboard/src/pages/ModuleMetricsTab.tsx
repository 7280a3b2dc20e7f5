import { useEffect } from "react";
import { Alert } from "../components/ui/alert";
import { Badge } from "../components/ui/badge";
import { Chart, type ChartRow } from "../components/ui/chart";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "../components/ui/table";
import type { MetricValues, ModuleMetrics, SeriesValue } from "../lib/types";
import { useFetched } from "../lib/useFetched";

// Mounted only while the tab is open (Radix unmounts an inactive tab's content), so it
// polls only then; the next request waits for the previous answer, so they never pile up.
export const METRICS_REFRESH_MS = 5000;
// One bar colour per series in the chart component: the busiest label sets are drawn.
const CHARTED_SERIES = 6;

/** A number as an operator reads it: integers whole, others to 4 significant digits. */
export function formatValue(value: number | null): string {
  if (value === null) return "—";
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

function labelText(series: SeriesValue): string {
  const values = Object.values(series.labels);
  return values.length > 0 ? `${series.tenant} · ${values.join(" · ")}` : series.tenant;
}

function perWorker(series: SeriesValue): string {
  return Object.entries(series.byProcess)
    .map(([process, value]) => `${process}: ${formatValue(value)}`)
    .join(", ");
}

/** Over several workers a gauge says how their values combine (its manifest's `acrossWorkers`). */
function valueHeading(metric: MetricValues, workers: number): string {
  if (workers < 2 || metric.acrossWorkers === "sum") return "Value";
  return `Value (${metric.acrossWorkers} of workers)`;
}

function SeriesTable({ metric, workers }: { metric: MetricValues; workers: number }) {
  const histogram = metric.type === "histogram";
  return (
    <Table data-testid={`metric-values-${metric.name}`}>
      <TableHeader>
        <TableRow>
          <TableHead>Tenant</TableHead>
          {metric.labels.map((label) => (
            <TableHead key={label}>{label}</TableHead>
          ))}
          {histogram ? (
            <>
              <TableHead>Count</TableHead>
              <TableHead>Sum</TableHead>
              <TableHead>Mean</TableHead>
            </>
          ) : (
            <TableHead>{valueHeading(metric, workers)}</TableHead>
          )}
          {workers > 1 ? <TableHead>Per worker</TableHead> : null}
        </TableRow>
      </TableHeader>
      <TableBody>
        {metric.series.map((series) => (
          <TableRow key={labelText(series)}>
            <TableCell>{series.tenant}</TableCell>
            {metric.labels.map((label) => (
              <TableCell key={label} className="font-mono text-xs">
                {series.labels[label] ?? ""}
              </TableCell>
            ))}
            {histogram ? (
              <>
                <TableCell>{formatValue(series.count)}</TableCell>
                <TableCell>{formatValue(series.sum)}</TableCell>
                <TableCell>{series.count ? formatValue((series.sum ?? 0) / series.count) : "—"}</TableCell>
              </>
            ) : (
              <TableCell className="font-medium">{formatValue(series.value)}</TableCell>
            )}
            {workers > 1 ? <TableCell className="text-xs text-slate-500">{perWorker(series)}</TableCell> : null}
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** Observations per bucket (`≤ le`), one bar per label set: the busiest CHARTED_SERIES of them. */
function Distribution({ metric }: { metric: MetricValues }) {
  const charted = [...metric.series].sort((a, b) => (b.count ?? 0) - (a.count ?? 0)).slice(0, CHARTED_SERIES);
  const bounds = charted[0]?.buckets.map((bucket) => bucket.le) ?? [];
  const data: ChartRow[] = bounds.map((le) => {
    const row: ChartRow = { bucket: le === "+Inf" ? `> ${bounds[bounds.length - 2] ?? 0}` : `≤ ${le}` };
    charted.forEach((series, index) => {
      row[`s${index}`] = series.buckets.find((bucket) => bucket.le === le)?.count ?? 0;
    });
    return row;
  });
  return (
    <div data-testid={`metric-distribution-${metric.name}`}>
      <Chart
        kind="bar"
        data={data}
        x="bucket"
        series={charted.map((series, index) => ({ key: `s${index}`, label: labelText(series) }))}
        height={180}
      />
      {metric.series.length > CHARTED_SERIES ? (
        <p className="text-xs text-slate-500">
          The {CHARTED_SERIES} label sets with the most observations of {metric.series.length}.
        </p>
      ) : null}
    </div>
  );
}

function MetricSection({ metric, workers }: { metric: MetricValues; workers: number }) {
  return (
    <section className="flex flex-col gap-2" data-testid={`metric-${metric.name}`}>
      <div className="flex items-center gap-2">
        <h4 className="font-mono text-sm font-medium">{metric.name}</h4>
        <Badge tone="info">{metric.type}</Badge>
        {metric.unit ? <span className="text-xs text-slate-500">{metric.unit}</span> : null}
      </div>
      <p className="text-sm text-slate-600">
        {metric.help} <span className="font-mono text-xs text-slate-400">{metric.exportedName}</span>
      </p>
      {metric.series.length === 0 ? (
        <p className="text-sm text-slate-500">Nothing recorded yet.</p>
      ) : (
        <>
          <SeriesTable metric={metric} workers={workers} />
          {metric.type === "histogram" ? <Distribution metric={metric} /> : null}
        </>
      )}
    </section>
  );
}

/** The Metrics tab of a module's page: its declared metrics with their values now, all workers added. */
export function ModuleMetricsTab({ module, refreshMs = METRICS_REFRESH_MS }: { module: string; refreshMs?: number }) {
  const fetched = useFetched<ModuleMetrics>(`/api/admin/modules/${encodeURIComponent(module)}/metrics`);
  const { loading, reload } = fetched;

  useEffect(() => {
    if (loading) return;
    const timer = setTimeout(reload, refreshMs);
    return () => clearTimeout(timer);
  }, [loading, reload, refreshMs]);

  if (fetched.error && !fetched.data) return <Alert tone="danger">{fetched.error.message}</Alert>;
  if (!fetched.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const { metrics, workers } = fetched.data;
  if (metrics.length === 0) {
    return <p className="text-sm text-slate-500">Declares no metric (the host's own series per module are on /metrics).</p>;
  }
  const recorded = metrics.some((metric) => metric.series.length > 0);
  return (
    <div className="flex flex-col gap-5">
      <p className="text-xs text-slate-500" data-testid="metrics-source">
        Values since each host process started{workers > 1 ? `, added over ${workers} workers` : ""}; refreshed every{" "}
        {Math.round(refreshMs / 1000)} s.
      </p>
      {recorded ? null : (
        <Alert tone="info" title="Nothing recorded yet" testId="metrics-empty">
          The module has not recorded any of its metrics since this host started. What it declares:
        </Alert>
      )}
      {metrics.map((metric) => (
        <MetricSection key={metric.name} metric={metric} workers={workers} />
      ))}
    </div>
  );
}
