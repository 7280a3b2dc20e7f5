import { Badge, type BadgeTone } from "../components/ui/badge";

const TONES: Record<string, BadgeTone> = {
  enabled: "success",
  loaded: "success",
  ok: "success",
  disabled: "neutral",
  failed: "danger",
  quarantined: "danger",
  degraded: "warning",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge tone={TONES[status] ?? "neutral"} data-testid="status">
      {status}
    </Badge>
  );
}
