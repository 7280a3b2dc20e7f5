import { useEffect } from "react";
import { useLocation, useParams } from "react-router-dom";
import { Alert } from "../components/ui/alert";
import { ApiFailure } from "../lib/api";
import { useLive } from "../lib/live";
import type { ViewError } from "../lib/types";
import { useFetched } from "../lib/useFetched";
import { TreeRenderer } from "../tree/TreeRenderer";
import type { UiTree } from "../tree/types";
import { ViewErrorPanel } from "./ViewErrorPanel";

interface Rendered {
  module: string;
  view: string;
  title: string;
  tree: UiTree;
}

/** One module view: its tree as the host rendered and validated it, re-rendered on a dev reload. */
export function ModuleViewPage() {
  const { module = "", view = "" } = useParams();
  const { search } = useLocation();
  const { dev } = useLive();
  const signal = dev[module];
  const rendered = useFetched<Rendered>(`/api/admin/views/${encodeURIComponent(module)}/${encodeURIComponent(view)}${search}`);

  // Under `trafi dev`: a reload of this module renders its view again.
  useEffect(() => {
    if (signal?.signal.kind === "reloaded") rendered.reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [signal?.seq]);

  const devError = signal?.signal.kind === "error" ? signal.signal : null;
  return (
    <div className="flex flex-col gap-4">
      {devError ? (
        <ViewErrorPanel
          title={`${module} failed to reload${devError.serving ? `; ${devError.serving} still serves` : ""}`}
          error={{ error: devError.problem?.message ?? "the module failed to reload", problem: devError.problem }}
        />
      ) : null}
      {rendered.error ? (
        <ViewErrorPanel
          title={`The view ${module}/${view} cannot be shown`}
          error={rendered.error instanceof ApiFailure ? (rendered.error.body as unknown as ViewError) : { error: rendered.error.message }}
        />
      ) : null}
      {rendered.data ? (
        <>
          <h2 className="text-xl font-semibold">{rendered.data.tree.title ?? rendered.data.title}</h2>
          <TreeRenderer module={module} tree={rendered.data.tree} onSubmitted={rendered.reload} />
        </>
      ) : null}
      {!rendered.data && !rendered.error ? <Alert tone="info">Rendering…</Alert> : null}
    </div>
  );
}
