// The host's admin API answers (host/trafi_host/api/admin_*.py, pydantic models there).

export interface Me {
  id: string;
  kind: string;
  name: string;
  tenant: string;
  credential: string;
  permissions: string[];
}

export interface NavEntry {
  module: string;
  id: string;
  title: string;
  navLabel: string;
}

export interface Nav {
  dev: boolean;
  views: NavEntry[];
}

export interface Grant {
  permission: string;
  reason: string;
  status: "granted" | "requested" | "not granted";
}

export interface AdminModule {
  name: string;
  version: string;
  status: "enabled" | "disabled" | "failed" | "quarantined";
  running: boolean;
  reason: string | null;
  source: string;
  sourceKind: string;
  resolved: string;
  compatible: boolean;
  compatibility: string;
  loadMs: number | null;
  incidents: number;
  permissions: Grant[];
}

export interface Incident {
  at: string;
  action: string;
  kind: string | null;
  detail: string | null;
  actor: string;
}

export interface MetricSummary {
  name: string;
  type: string;
  help: string;
  labels: string[];
}

export interface ModuleDetail {
  module: AdminModule;
  world: string;
  apiPermissions: Record<string, string>;
  events: { event: string; mode: string; maxRetries: number }[];
  services: { provides: string[]; dependsOn: Record<string, string> };
  metrics: MetricSummary[];
  incidents: Incident[];
  views: NavEntry[];
}

export interface Finding {
  rule: string;
  name: string;
  severity: "error" | "warning" | "info";
  message: string;
  fix: string;
  subject: string | null;
  file: string | null;
  line: number | null;
  allowed: boolean;
}

export interface ValidationReport {
  module: string;
  version: string;
  findings: Finding[];
}

export interface Health {
  status: string;
  version: string;
  modules: { name: string; version: string; status: string; error: string | null; loadMs: number | null }[];
  events: Record<string, number | Record<string, number>>;
}

export interface ViewError {
  error: string;
  module?: string;
  view?: string;
  violations?: { path: string; message: string }[];
  problem?: Record<string, unknown>;
}

// GET /api/admin/modules/<name>/metrics (host/trafi_host/api/admin_module_metrics.py).
export interface HistogramBucket {
  le: string;
  count: number;
}

export interface SeriesValue {
  tenant: string;
  labels: Record<string, string>;
  value: number | null;
  count: number | null;
  sum: number | null;
  buckets: HistogramBucket[];
  byProcess: Record<string, number>;
}

export interface MetricValues {
  name: string;
  type: "counter" | "gauge" | "histogram";
  help: string;
  unit: string;
  labels: string[];
  exportedName: string;
  acrossWorkers: "sum" | "max" | "min";
  series: SeriesValue[];
}

export interface ModuleMetrics {
  module: string;
  workers: number;
  metrics: MetricValues[];
}
