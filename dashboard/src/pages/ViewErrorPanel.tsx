import { Alert } from "../components/ui/alert";
import type { ViewError } from "../lib/types";

/** What the shell shows instead of a view the host refused to serve: never a blank page. */
export function ViewErrorPanel({ title, error }: { title: string; error: ViewError }) {
  return (
    <Alert tone="danger" title={title} testId="view-error">
      <p>{error.error}</p>
      {error.violations && error.violations.length > 0 ? (
        <ul className="mt-2 list-disc pl-5 font-mono text-xs" data-testid="view-violations">
          {error.violations.map((violation, index) => (
            <li key={index}>
              {violation.path}: {violation.message}
            </li>
          ))}
        </ul>
      ) : null}
      {error.problem ? (
        <pre className="mt-2 overflow-x-auto whitespace-pre-wrap rounded bg-red-100 p-2 font-mono text-xs">
          {[error.problem.file ? `${error.problem.file}:${error.problem.line ?? ""}` : "", error.problem.message ?? "", error.problem.excerpt ?? ""]
            .filter(Boolean)
            .join("\n")}
        </pre>
      ) : null}
    </Alert>
  );
}
