import { useCallback, useEffect, useRef, useState } from "react";
import { ApiFailure, api } from "./api";

export interface Fetched<T> {
  data: T | null;
  error: ApiFailure | Error | null;
  loading: boolean;
  reload: () => void;
}

/** GET `path` (again whenever a dependency changes, or on reload()). */
export function useFetched<T>(path: string | null, deps: unknown[] = []): Fetched<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiFailure | Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const shown = useRef<string | null>(null);

  useEffect(() => {
    if (path === null) return;
    let current = true;
    setLoading(true);
    // Another resource: what was shown is not its answer (a reload of the same one keeps it).
    if (shown.current !== path) {
      shown.current = path;
      setData(null);
      setError(null);
    }
    api<T>("GET", path)
      .then((result) => {
        if (!current) return;
        setData(result);
        setError(null);
      })
      .catch((failure: unknown) => {
        if (!current) return;
        setData(null);
        setError(failure instanceof Error ? failure : new Error(String(failure)));
      })
      .finally(() => {
        if (current) setLoading(false);
      });
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path, tick, ...deps]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}
