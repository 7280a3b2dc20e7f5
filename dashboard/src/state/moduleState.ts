// Each module's client state (its forms' drafts, its tabs) lives under its own prefix in
// sessionStorage, so one module never reads another's, and all of it goes when the module is
// disabled or removed (clearModuleState, called when the nav loses the module).

const PREFIX = "trafi.module.";

function keyOf(module: string, key: string): string {
  return `${PREFIX}${module}.${key}`;
}

export function readModuleState<T>(module: string, key: string, fallback: T): T {
  const raw = sessionStorage.getItem(keyOf(module, key));
  if (raw === null) return fallback;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return fallback;
  }
}

export function writeModuleState(module: string, key: string, value: unknown): void {
  sessionStorage.setItem(keyOf(module, key), JSON.stringify(value));
}

/** Every key of `module`'s state, removed. */
export function clearModuleState(module: string): void {
  const prefix = `${PREFIX}${module}.`;
  const doomed: string[] = [];
  for (let i = 0; i < sessionStorage.length; i++) {
    const key = sessionStorage.key(i);
    if (key !== null && key.startsWith(prefix)) doomed.push(key);
  }
  doomed.forEach((key) => sessionStorage.removeItem(key));
}

/** The modules that have any state kept. */
export function modulesWithState(): string[] {
  const names = new Set<string>();
  for (let i = 0; i < sessionStorage.length; i++) {
    const key = sessionStorage.key(i);
    if (key !== null && key.startsWith(PREFIX)) names.add(key.slice(PREFIX.length).split(".")[0]);
  }
  return [...names].sort();
}
