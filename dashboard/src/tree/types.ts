// The UI tree a module renders (docs/ui-tree.schema.json, `trafi-ui/1`). The host validates
// every tree against the schema before serving it; these types mirror that schema.

export const TREE_SCHEMA = "trafi-ui/1";

export type Scalar = string | number | boolean | null;
export type Tone = "neutral" | "info" | "success" | "warning" | "danger";

export interface CardNode {
  type: "card";
  title?: string;
  description?: string;
  children: UiNode[];
}
export interface LayoutNode {
  type: "stack" | "row";
  gap?: "sm" | "md" | "lg";
  children: UiNode[];
}
export interface TextNode {
  type: "text";
  text: string;
  variant?: "body" | "heading" | "muted" | "code";
}
export interface StatNode {
  type: "stat";
  label: string;
  value: string | number;
  hint?: string;
}
export interface BadgeNode {
  type: "badge";
  text: string;
  tone?: Tone;
}
export interface TableNode {
  type: "table";
  columns: { key: string; label: string }[];
  rows: Record<string, Scalar>[];
  empty?: string;
}
export interface FormField {
  name: string;
  label: string;
  kind: "text" | "number" | "textarea" | "select" | "checkbox";
  required?: boolean;
  placeholder?: string;
  default?: Scalar;
  options?: { value: string; label: string }[];
}
export interface FormNode {
  type: "form";
  id: string;
  title?: string;
  submitLabel?: string;
  successMessage?: string;
  action: { method: "POST" | "PUT" | "PATCH" | "DELETE"; path: string };
  fields: FormField[];
}
export interface ChartNode {
  type: "chart";
  kind: "line" | "bar";
  title?: string;
  x: string;
  series: { key: string; label?: string }[];
  data: Record<string, string | number | null>[];
  height?: number;
}
export interface AlertNode {
  type: "alert";
  tone?: "info" | "success" | "warning" | "danger";
  title?: string;
  text: string;
}
export interface TabsNode {
  type: "tabs";
  tabs: { id: string; label: string; children: UiNode[] }[];
}

export type UiNode =
  | CardNode
  | LayoutNode
  | TextNode
  | StatNode
  | BadgeNode
  | TableNode
  | FormNode
  | ChartNode
  | AlertNode
  | TabsNode;

export interface UiTree {
  schema: typeof TREE_SCHEMA;
  title?: string;
  root: UiNode;
}
