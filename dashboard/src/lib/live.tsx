import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { clearModuleState } from "../state/moduleState";

// The server's live signals: module state changes for everyone signed in
// (/api/admin/events), and under `trafi dev` each module's reloads and errors (/dev/events).

export interface ModuleChange {
  id: number;
  module: string;
  status: string;
  version: string | null;
}

export interface DevSignal {
  kind: "reloaded" | "error" | "removed";
  module: string;
  version?: string;
  serving?: string;
  problem?: { kind?: string; message?: string; file?: string; line?: number; excerpt?: string; detail?: string };
}

interface Live {
  /** Bumped at each module state change: pages that list modules reload on it. */
  modulesVersion: number;
  lastChange: ModuleChange | null;
  /** The last dev signal per module (reloaded or error), and a counter that moves with each. */
  dev: Record<string, { signal: DevSignal; seq: number }>;
}

const LiveContext = createContext<Live>({ modulesVersion: 0, lastChange: null, dev: {} });

export function LiveProvider({ enabled, dev, children }: { enabled: boolean; dev: boolean; children: ReactNode }) {
  const [modulesVersion, setModulesVersion] = useState(0);
  const [lastChange, setLastChange] = useState<ModuleChange | null>(null);
  const [devSignals, setDevSignals] = useState<Live["dev"]>({});

  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource("/api/admin/events");
    source.addEventListener("module", (event) => {
      const change = JSON.parse((event as MessageEvent<string>).data) as ModuleChange;
      if (change.status !== "enabled") clearModuleState(change.module);
      setLastChange(change);
      setModulesVersion((v) => v + 1);
    });
    return () => source.close();
  }, [enabled]);

  useEffect(() => {
    if (!enabled || !dev) return;
    const source = new EventSource("/dev/events");
    let seq = 0;
    const take = (event: Event) => {
      const signal = JSON.parse((event as MessageEvent<string>).data) as DevSignal;
      seq += 1;
      const mine = seq;
      setDevSignals((current) => ({ ...current, [signal.module]: { signal, seq: mine } }));
    };
    for (const kind of ["reloaded", "error", "removed"]) source.addEventListener(kind, take);
    return () => source.close();
  }, [enabled, dev]);

  return <LiveContext.Provider value={{ modulesVersion, lastChange, dev: devSignals }}>{children}</LiveContext.Provider>;
}

export function useLive(): Live {
  return useContext(LiveContext);
}
