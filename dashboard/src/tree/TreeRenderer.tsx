import type { ReactNode } from "react";
import { Alert } from "../components/ui/alert";
import { Badge } from "../components/ui/badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../components/ui/card";
import { Chart } from "../components/ui/chart";
import { Stat } from "../components/ui/stat";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "../components/ui/table";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "../components/ui/tabs";
import { cn } from "../lib/cn";
import { TreeForm } from "./TreeForm";
import type { Scalar, UiNode, UiTree } from "./types";
import { TREE_SCHEMA } from "./types";

// Maps each node of a module's UI tree to the dashboard's own components. Only data crosses
// from the module: no node carries markup, script or URL the browser would load.

const GAPS = { sm: "gap-2", md: "gap-4", lg: "gap-6" } as const;

function cell(value: Scalar | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

interface Context {
  module: string;
  onSubmitted?: () => void;
}

function Unknown({ what }: { what: string }) {
  return (
    <Alert tone="danger" title="This part of the view cannot be shown" testId="tree-node-error">
      {what}
    </Alert>
  );
}

function renderNodes(nodes: UiNode[], context: Context, path: string): ReactNode[] {
  return nodes.map((node, index) => <TreeNode key={`${path}.${index}`} node={node} context={context} path={`${path}.${index}`} />);
}

function TreeNode({ node, context, path }: { node: UiNode; context: Context; path: string }) {
  if (node === null || typeof node !== "object") return <Unknown what={`${path}: not a node`} />;
  switch (node.type) {
    case "card":
      return (
        <Card>
          {node.title || node.description ? (
            <CardHeader>
              {node.title ? <CardTitle>{node.title}</CardTitle> : null}
              {node.description ? <CardDescription>{node.description}</CardDescription> : null}
            </CardHeader>
          ) : null}
          <CardContent className="flex flex-col gap-4">{renderNodes(node.children, context, path)}</CardContent>
        </Card>
      );
    case "stack":
    case "row":
      return (
        <div className={cn("flex", node.type === "row" ? "flex-row flex-wrap items-start" : "flex-col", GAPS[node.gap ?? "md"])}>
          {renderNodes(node.children, context, path)}
        </div>
      );
    case "text": {
      const variant = node.variant ?? "body";
      if (variant === "heading") return <h3 className="text-lg font-semibold">{node.text}</h3>;
      if (variant === "code") return <code className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-sm">{node.text}</code>;
      return <p className={cn("text-sm", variant === "muted" && "text-slate-500")}>{node.text}</p>;
    }
    case "stat":
      return <Stat label={node.label} value={node.value} hint={node.hint} />;
    case "badge":
      return <Badge tone={node.tone ?? "neutral"}>{node.text}</Badge>;
    case "table":
      return (
        <Table>
          <TableHeader>
            <TableRow>
              {node.columns.map((column) => (
                <TableHead key={column.key}>{column.label}</TableHead>
              ))}
            </TableRow>
          </TableHeader>
          <TableBody>
            {node.rows.length === 0 ? (
              <TableRow>
                <TableCell colSpan={node.columns.length} className="text-slate-500">
                  {node.empty ?? "Nothing yet."}
                </TableCell>
              </TableRow>
            ) : (
              node.rows.map((row, index) => (
                <TableRow key={index}>
                  {node.columns.map((column) => (
                    <TableCell key={column.key}>{cell(row[column.key])}</TableCell>
                  ))}
                </TableRow>
              ))
            )}
          </TableBody>
        </Table>
      );
    case "form":
      return <TreeForm module={context.module} node={node} onSubmitted={context.onSubmitted} />;
    case "chart":
      return (
        <div className="flex flex-col gap-2">
          {node.title ? <p className="text-sm font-medium">{node.title}</p> : null}
          <Chart kind={node.kind} data={node.data} x={node.x} series={node.series} height={node.height} />
        </div>
      );
    case "alert":
      return (
        <Alert tone={node.tone ?? "info"} title={node.title}>
          {node.text}
        </Alert>
      );
    case "tabs":
      return (
        <Tabs defaultValue={node.tabs[0]?.id}>
          <TabsList>
            {node.tabs.map((tab) => (
              <TabsTrigger key={tab.id} value={tab.id}>
                {tab.label}
              </TabsTrigger>
            ))}
          </TabsList>
          {node.tabs.map((tab) => (
            <TabsContent key={tab.id} value={tab.id} className="flex flex-col gap-4">
              {renderNodes(tab.children, context, `${path}.${tab.id}`)}
            </TabsContent>
          ))}
        </Tabs>
      );
    default: {
      const type = (node as { type?: unknown }).type;
      return <Unknown what={`${path}: unknown node type ${JSON.stringify(type)}`} />;
    }
  }
}

/** A module's view. A tree of another schema version is refused whole, not half drawn. */
export function TreeRenderer({ module, tree, onSubmitted }: { module: string; tree: UiTree; onSubmitted?: () => void }) {
  if (tree.schema !== TREE_SCHEMA) {
    return <Unknown what={`the view is written for ${JSON.stringify(tree.schema)}; this dashboard reads ${TREE_SCHEMA}`} />;
  }
  return (
    <div className="flex flex-col gap-4" data-testid="module-view">
      <TreeNode node={tree.root} context={{ module, onSubmitted }} path="root" />
    </div>
  );
}
