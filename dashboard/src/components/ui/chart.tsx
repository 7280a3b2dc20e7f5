import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface ChartSeries {
  key: string;
  label?: string;
}

export type ChartRow = Record<string, string | number | null>;

const COLORS = ["#0f172a", "#0284c7", "#059669", "#d97706", "#dc2626", "#7c3aed"];

/** A line or bar chart of `data`, one series per key, `x` on the horizontal axis. */
export function Chart({
  kind,
  data,
  x,
  series,
  height = 240,
}: {
  kind: "line" | "bar";
  data: ChartRow[];
  x: string;
  series: ChartSeries[];
  height?: number;
}) {
  const axes = [
    <CartesianGrid key="grid" strokeDasharray="3 3" stroke="#e2e8f0" />,
    <XAxis key="x" dataKey={x} fontSize={12} />,
    <YAxis key="y" fontSize={12} />,
    <Tooltip key="tooltip" />,
    <Legend key="legend" />,
  ];
  return (
    <div data-testid="chart" data-kind={kind} style={{ width: "100%", height }}>
      <ResponsiveContainer width="100%" height="100%" minWidth={200} minHeight={100}>
        {kind === "line" ? (
          <LineChart data={data}>
            {axes}
            {series.map((s, i) => (
              <Line key={s.key} type="monotone" dataKey={s.key} name={s.label ?? s.key} stroke={COLORS[i % COLORS.length]} isAnimationActive={false} />
            ))}
          </LineChart>
        ) : (
          <BarChart data={data}>
            {axes}
            {series.map((s, i) => (
              <Bar key={s.key} dataKey={s.key} name={s.label ?? s.key} fill={COLORS[i % COLORS.length]} isAnimationActive={false} />
            ))}
          </BarChart>
        )}
      </ResponsiveContainer>
    </div>
  );
}
