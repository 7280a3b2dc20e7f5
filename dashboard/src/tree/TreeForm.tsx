import { useState, type FormEvent } from "react";
import { Alert } from "../components/ui/alert";
import { Button } from "../components/ui/button";
import { Field, Input, Select, Textarea } from "../components/ui/field";
import { ApiFailure, api } from "../lib/api";
import { readModuleState, writeModuleState } from "../state/moduleState";
import type { FormField, FormNode, Scalar } from "./types";

type Values = Record<string, Scalar>;

function initial(fields: FormField[]): Values {
  const values: Values = {};
  for (const field of fields) {
    values[field.name] = field.default ?? (field.kind === "checkbox" ? false : "");
  }
  return values;
}

/** The JSON body: numbers as numbers, empty optional fields left out. */
function body(fields: FormField[], values: Values): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (field.kind === "number") {
      if (value === "" || value === null) continue;
      out[field.name] = Number(value);
    } else if (field.kind === "checkbox") {
      out[field.name] = Boolean(value);
    } else if (value !== "" || field.required) {
      out[field.name] = value;
    }
  }
  return out;
}

const TEMPLATE = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The action's path with each `{field}` replaced by that field's value, URL-encoded, and the
 * fields so used; a value that is empty or a dot segment is refused, since the browser would
 * resolve `..` and leave the module's own prefix. */
export function actionPath(path: string, values: Values): { path: string; used: Set<string> } {
  const used = new Set<string>();
  const filled = path.replace(TEMPLATE, (_, name: string) => {
    const value = String(values[name] ?? "").trim();
    if (value === "" || value === "." || value === "..") {
      throw new Error(`${name}: give a value (not empty, "." or "..")`);
    }
    used.add(name);
    return encodeURIComponent(value);
  });
  return { path: filled, used };
}

type Outcome = { ok: true; message: string } | { ok: false; message: string };

/** A module's form: posts to the module's own endpoint, never anywhere else. */
export function TreeForm({ module, node, onSubmitted }: { module: string; node: FormNode; onSubmitted?: () => void }) {
  const draftKey = `form.${node.id}`;
  const [values, setValues] = useState<Values>(() => readModuleState(module, draftKey, initial(node.fields)));
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);

  const change = (name: string, value: Scalar) => {
    const next = { ...values, [name]: value };
    setValues(next);
    writeModuleState(module, draftKey, next);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      const target = actionPath(node.action.path, values);
      const result = await api<Record<string, unknown> | null>(
        node.action.method,
        `/api/modules/${encodeURIComponent(module)}/${target.path}`,
        body(
          node.fields.filter((field) => !target.used.has(field.name)),
          values,
        ),
      );
      const fresh = initial(node.fields);
      setValues(fresh);
      writeModuleState(module, draftKey, fresh);
      const said = result && typeof result.message === "string" ? result.message : null;
      setOutcome({ ok: true, message: node.successMessage ?? said ?? "Done." });
      onSubmitted?.();
    } catch (error) {
      const message =
        error instanceof ApiFailure ? `${error.status}: ${error.message}` : error instanceof Error ? error.message : String(error);
      setOutcome({ ok: false, message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="flex flex-col gap-3" onSubmit={submit} data-testid={`form-${node.id}`} aria-label={node.title ?? node.id}>
      {node.title ? <h4 className="font-medium">{node.title}</h4> : null}
      {node.fields.map((field) => {
        const id = `${module}-${node.id}-${field.name}`;
        const value = values[field.name];
        if (field.kind === "checkbox") {
          return (
            <label key={field.name} className="flex items-center gap-2 text-sm">
              <input id={id} name={field.name} type="checkbox" checked={Boolean(value)} onChange={(e) => change(field.name, e.target.checked)} />
              {field.label}
            </label>
          );
        }
        return (
          <Field key={field.name} id={id} label={field.label}>
            {field.kind === "textarea" ? (
              <Textarea id={id} name={field.name} required={field.required} placeholder={field.placeholder} value={String(value ?? "")} onChange={(e) => change(field.name, e.target.value)} />
            ) : field.kind === "select" ? (
              <Select id={id} name={field.name} required={field.required} value={String(value ?? "")} onChange={(e) => change(field.name, e.target.value)}>
                <option value="">—</option>
                {(field.options ?? []).map((option) => (
                  <option key={option.value} value={option.value}>
                    {option.label}
                  </option>
                ))}
              </Select>
            ) : (
              <Input
                id={id}
                name={field.name}
                type={field.kind === "number" ? "number" : "text"}
                required={field.required}
                placeholder={field.placeholder}
                value={String(value ?? "")}
                onChange={(e) => change(field.name, e.target.value)}
              />
            )}
          </Field>
        );
      })}
      <div>
        <Button type="submit" disabled={busy}>
          {node.submitLabel ?? "Submit"}
        </Button>
      </div>
      {outcome ? (
        <Alert tone={outcome.ok ? "success" : "danger"} testId={`form-${node.id}-result`}>
          {outcome.message}
        </Alert>
      ) : null}
    </form>
  );
}
