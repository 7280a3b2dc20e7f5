import { render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MetricValues, ModuleMetrics, SeriesValue } from "../lib/types";
import { ModuleMetricsTab, formatValue } from "./ModuleMetricsTab";

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function series(tenant: string, labels: Record<string, string>, part: Partial<SeriesValue>): SeriesValue {
  return { tenant, labels, value: null, count: null, sum: null, buckets: [], byProcess: {}, ...part };
}

const COUNTER: MetricValues = {
  name: "points_awarded_total",
  type: "counter",
  help: "Loyalty points awarded.",
  unit: "",
  labels: ["reason"],
  exportedName: "trafi_module_loyalty_points_awarded",
  acrossWorkers: "sum",
  series: [],
};
const GAUGE: MetricValues = {
  ...COUNTER,
  name: "orders_seen",
  type: "gauge",
  labels: [],
  exportedName: "trafi_module_loyalty_orders_seen",
  acrossWorkers: "max",
};
const HISTOGRAM: MetricValues = {
  ...COUNTER,
  name: "points_service_duration_seconds",
  type: "histogram",
  unit: "seconds",
  labels: ["method"],
  exportedName: "trafi_module_loyalty_points_service_duration_seconds",
};

function answer(workers: number, metrics: MetricValues[]): ModuleMetrics {
  return { module: "loyalty", workers, metrics };
}

/** fetch answering each GET with the next of `answers` (the last one again once they run out). */
function serve(...answers: ModuleMetrics[]) {
  let next = 0;
  const fetchMock = vi.fn(async () => {
    const body = answers[Math.min(next, answers.length - 1)];
    next += 1;
    return new Response(JSON.stringify(body), { status: 200 });
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

describe("ModuleMetricsTab", () => {
  it("shows each label set's value, a histogram's count, sum and distribution, and each worker's part", async () => {
    const fetchMock = serve(
      answer(2, [
        { ...COUNTER, series: [series("acme", { reason: "order" }, { value: 42, byProcess: { "web:1": 30, "web:2": 12 } })] },
        { ...GAUGE, series: [series("acme", {}, { value: 4, byProcess: { "web:1": 3, "web:2": 4 } })] },
        {
          ...HISTOGRAM,
          series: [
            series("acme", { method: "add" }, {
              count: 4,
              sum: 0.0123,
              buckets: [
                { le: "0.001", count: 0 },
                { le: "0.005", count: 3 },
                { le: "+Inf", count: 1 },
              ],
            }),
          ],
        },
      ]),
    );
    render(<ModuleMetricsTab module="loyalty" refreshMs={3_600_000} />);

    const counter = await screen.findByTestId("metric-values-points_awarded_total");
    const [url] = fetchMock.mock.calls[0] as unknown as [string];
    expect(url).toBe("/api/admin/modules/loyalty/metrics");
    expect(within(counter).getByRole("columnheader", { name: "reason" })).toBeInTheDocument();
    expect(within(counter).getByRole("cell", { name: "order" })).toBeInTheDocument();
    expect(within(counter).getByRole("cell", { name: "42" })).toBeInTheDocument();
    expect(within(counter).getByRole("cell", { name: "web:1: 30, web:2: 12" })).toBeInTheDocument();
    expect(within(counter).getByRole("columnheader", { name: "Value" })).toBeInTheDocument();
    // A gauge each worker reads from shared state: the largest of the workers' values, and it says so.
    const gauge = screen.getByTestId("metric-values-orders_seen");
    expect(within(gauge).getByRole("columnheader", { name: "Value (max of workers)" })).toBeInTheDocument();
    expect(within(gauge).getByRole("cell", { name: "4" })).toBeInTheDocument();
    expect(within(gauge).getByRole("cell", { name: "web:1: 3, web:2: 4" })).toBeInTheDocument();

    const histogram = screen.getByTestId("metric-values-points_service_duration_seconds");
    expect(within(histogram).getByRole("columnheader", { name: "Count" })).toBeInTheDocument();
    expect(within(histogram).getByRole("cell", { name: "4" })).toBeInTheDocument();
    expect(within(histogram).getByRole("cell", { name: "0.0123" })).toBeInTheDocument();
    expect(within(histogram).getByRole("cell", { name: "0.003075" })).toBeInTheDocument(); // the mean
    const chart = within(screen.getByTestId("metric-distribution-points_service_duration_seconds")).getByTestId("chart");
    expect(chart.dataset.kind).toBe("bar");
    expect(screen.getByTestId("metrics-source")).toHaveTextContent("added over 2 workers");
    expect(screen.queryByTestId("metrics-empty")).toBeNull();
  });

  it("says nothing was recorded yet, and still lists what the module declares", async () => {
    serve(answer(1, [COUNTER, GAUGE, HISTOGRAM]));
    render(<ModuleMetricsTab module="loyalty" refreshMs={3_600_000} />);
    expect(await screen.findByTestId("metrics-empty")).toHaveTextContent("Nothing recorded yet");
    expect(screen.getAllByText("Nothing recorded yet.")).toHaveLength(3);
    expect(screen.getByText("points_awarded_total")).toBeInTheDocument();
    expect(screen.queryByTestId("chart")).toBeNull();
    expect(screen.getByTestId("metrics-source")).not.toHaveTextContent("workers");
  });

  it("says so when the module declares no metric", async () => {
    serve(answer(1, []));
    render(<ModuleMetricsTab module="hello" />);
    expect(await screen.findByText(/Declares no metric/)).toBeInTheDocument();
  });

  it("refreshes while open and stops once closed", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const fetchMock = serve(
      answer(1, [{ ...GAUGE, series: [series("acme", {}, { value: 1 })] }]),
      answer(1, [{ ...GAUGE, series: [series("acme", {}, { value: 7 })] }]),
    );
    const view = render(<ModuleMetricsTab module="loyalty" refreshMs={5000} />);
    const cellOf = () => within(screen.getByTestId("metric-values-orders_seen")).getAllByRole("cell")[1];
    await vi.waitFor(() => expect(cellOf()).toHaveTextContent("1"));
    expect(fetchMock).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5000);
    await vi.waitFor(() => expect(cellOf()).toHaveTextContent("7"));
    expect(fetchMock).toHaveBeenCalledTimes(2);
    view.unmount();
    vi.advanceTimersByTime(60_000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("asks again only once the previous request has answered", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const fetchMock = vi.fn(() => new Promise<Response>(() => {})); // a host that never answers
    vi.stubGlobal("fetch", fetchMock);
    render(<ModuleMetricsTab module="loyalty" refreshMs={5000} />);
    await vi.waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1));
    vi.advanceTimersByTime(60_000);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(screen.getByText("Loading…")).toBeInTheDocument();
  });

  it("formats values for reading", () => {
    expect(formatValue(42)).toBe("42");
    expect(formatValue(0.000123456)).toBe("0.0001235");
    expect(formatValue(null)).toBe("—");
  });
});
