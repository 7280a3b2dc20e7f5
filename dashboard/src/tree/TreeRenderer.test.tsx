import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { clearModuleState, readModuleState } from "../state/moduleState";
import { TreeRenderer } from "./TreeRenderer";
import type { UiNode, UiTree } from "./types";

function tree(root: UiNode): UiTree {
  return { schema: "trafi-ui/1", root };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("TreeRenderer", () => {
  it("maps each node type to the dashboard's components", () => {
    render(
      <TreeRenderer
        module="points"
        tree={tree({
          type: "stack",
          children: [
            { type: "card", title: "Balances", description: "per customer", children: [{ type: "text", text: "hello", variant: "muted" }] },
            { type: "row", children: [{ type: "stat", label: "Customers", value: 3 }, { type: "badge", text: "live", tone: "success" }] },
            { type: "alert", tone: "warning", title: "Careful", text: "watch out" },
            {
              type: "table",
              columns: [
                { key: "customer", label: "Customer" },
                { key: "points", label: "Points" },
                { key: "vip", label: "VIP" },
              ],
              rows: [{ customer: "ada", points: 12, vip: true }],
            },
            { type: "tabs", tabs: [{ id: "one", label: "One", children: [{ type: "text", text: "first tab" }] }, { id: "two", label: "Two", children: [] }] },
          ],
        })}
      />,
    );
    expect(screen.getByText("Balances")).toBeInTheDocument();
    expect(screen.getByText("per customer")).toBeInTheDocument();
    expect(screen.getByText("hello")).toHaveClass("text-slate-500");
    expect(screen.getByText("Customers")).toBeInTheDocument();
    expect(screen.getByText("3")).toBeInTheDocument();
    expect(screen.getByText("live")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("Careful");
    expect(screen.getByRole("columnheader", { name: "Points" })).toBeInTheDocument();
    expect(screen.getByRole("cell", { name: "ada" })).toBeInTheDocument();
    expect(screen.getByRole("cell", { name: "yes" })).toBeInTheDocument();
    expect(screen.getByRole("tab", { name: "One" })).toHaveAttribute("data-state", "active");
    expect(screen.getByText("first tab")).toBeInTheDocument();
  });

  it("shows a table's empty text when it has no row", () => {
    render(<TreeRenderer module="m" tree={tree({ type: "table", columns: [{ key: "a", label: "A" }], rows: [], empty: "No points yet" })} />);
    expect(screen.getByRole("cell", { name: "No points yet" })).toBeInTheDocument();
  });

  it("draws line and bar charts", () => {
    const data = [
      { day: "mon", points: 3 },
      { day: "tue", points: 5 },
    ];
    render(
      <TreeRenderer
        module="m"
        tree={tree({
          type: "stack",
          children: [
            { type: "chart", kind: "line", title: "Per day", x: "day", series: [{ key: "points" }], data },
            { type: "chart", kind: "bar", x: "day", series: [{ key: "points", label: "Points" }], data },
          ],
        })}
      />,
    );
    const charts = screen.getAllByTestId("chart");
    expect(charts.map((chart) => chart.dataset.kind)).toEqual(["line", "bar"]);
    expect(screen.getByText("Per day")).toBeInTheDocument();
  });

  it("shows an error panel for an unknown node instead of drawing nothing", () => {
    const bad = { type: "iframe", src: "https://elsewhere.example" } as unknown as UiNode;
    render(<TreeRenderer module="m" tree={tree({ type: "stack", children: [{ type: "text", text: "kept" }, bad] })} />);
    expect(screen.getByTestId("tree-node-error")).toHaveTextContent('root.1: unknown node type "iframe"');
    expect(screen.getByText("kept")).toBeInTheDocument();
    expect(document.querySelector("iframe")).toBeNull();
  });

  it("refuses a tree of another schema version whole", () => {
    const other = { schema: "trafi-ui/9", root: { type: "text", text: "x" } } as unknown as UiTree;
    render(<TreeRenderer module="m" tree={other} />);
    expect(screen.getByTestId("tree-node-error")).toHaveTextContent("trafi-ui/9");
    expect(screen.queryByText("x")).toBeNull();
  });

  it("renders text as text, never as markup", () => {
    render(<TreeRenderer module="m" tree={tree({ type: "text", text: "<img src=x onerror=alert(1)>" })} />);
    expect(document.querySelector("img")).toBeNull();
    expect(screen.getByText("<img src=x onerror=alert(1)>")).toBeInTheDocument();
  });

  it("posts a form to the module's own endpoint with the CSRF header, then reports and re-renders", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ message: "added 5 points" }), { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    const submitted = vi.fn();
    render(
      <TreeRenderer
        module="points"
        onSubmitted={submitted}
        tree={tree({
          type: "form",
          id: "award",
          action: { method: "POST", path: "v1/awards" },
          fields: [
            { name: "customer", label: "Customer", kind: "text", required: true },
            { name: "points", label: "Points", kind: "number", required: true },
            { name: "note", label: "Note", kind: "textarea" },
          ],
          submitLabel: "Award",
        })}
      />,
    );
    fireEvent.change(screen.getByLabelText("Customer"), { target: { value: "ada" } });
    fireEvent.change(screen.getByLabelText("Points"), { target: { value: "5" } });
    fireEvent.click(screen.getByRole("button", { name: "Award" }));
    await waitFor(() => expect(screen.getByTestId("form-award-result")).toHaveTextContent("added 5 points"));
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/modules/points/v1/awards");
    expect(init.method).toBe("POST");
    expect((init.headers as Record<string, string>)["X-Trafi-CSRF"]).toBe("1");
    expect(JSON.parse(init.body as string)).toEqual({ customer: "ada", points: 5 });
    expect(submitted).toHaveBeenCalledTimes(1);
  });

  it("shows the module's refusal of a form", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ error: "points must be positive" }), { status: 422 })));
    render(
      <TreeRenderer
        module="points"
        tree={tree({ type: "form", id: "award", action: { method: "POST", path: "v1/awards" }, fields: [{ name: "points", label: "Points", kind: "number" }] })}
      />,
    );
    fireEvent.click(screen.getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(screen.getByTestId("form-award-result")).toHaveTextContent("422: points must be positive"));
  });

  it("keeps a form's draft in the module's own namespace, cleared with the module", () => {
    const form: UiNode = { type: "form", id: "award", action: { method: "POST", path: "v1/awards" }, fields: [{ name: "customer", label: "Customer", kind: "text" }] };
    render(<TreeRenderer module="points" tree={tree(form)} />);
    fireEvent.change(screen.getByLabelText("Customer"), { target: { value: "ada" } });
    expect(readModuleState("points", "form.award", {})).toEqual({ customer: "ada" });
    expect(readModuleState("reviews", "form.award", null)).toBeNull();
    clearModuleState("points");
    expect(readModuleState("points", "form.award", null)).toBeNull();
  });
});

describe("form actions with path fields", () => {
  const form: UiNode = {
    type: "form",
    id: "award",
    action: { method: "POST", path: "v1/customers/{customer}/awards" },
    fields: [
      { name: "customer", label: "Customer", kind: "text", required: true },
      { name: "points", label: "Points", kind: "number" },
    ],
  };

  it("puts the field's value, URL-encoded, in the path and not in the body", async () => {
    const fetchMock = vi.fn(async () => new Response("{}", { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    render(<TreeRenderer module="points" tree={tree(form)} />);
    fireEvent.change(screen.getByLabelText("Customer"), { target: { value: "ada/../x y" } });
    fireEvent.change(screen.getByLabelText("Points"), { target: { value: "3" } });
    fireEvent.click(screen.getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1));
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/modules/points/v1/customers/ada%2F..%2Fx%20y/awards");
    expect(JSON.parse(init.body as string)).toEqual({ points: 3 });
  });

  it("refuses a dot segment, which would leave the module's prefix", async () => {
    const fetchMock = vi.fn(async () => new Response("{}", { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    render(<TreeRenderer module="points" tree={tree(form)} />);
    fireEvent.change(screen.getByLabelText("Customer"), { target: { value: ".." } });
    fireEvent.click(screen.getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(screen.getByTestId("form-award-result")).toHaveTextContent('customer: give a value'));
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
