import { useEffect } from "react";
import { BrowserRouter, NavLink, Navigate, Route, Routes } from "react-router-dom";
import { Button } from "./components/ui/button";
import { LiveProvider, useLive } from "./lib/live";
import { SessionProvider, useSession } from "./lib/session";
import type { Nav } from "./lib/types";
import { useFetched } from "./lib/useFetched";
import { HealthPage } from "./pages/HealthPage";
import { ModuleDetailPage } from "./pages/ModuleDetailPage";
import { ModulesPage } from "./pages/ModulesPage";
import { ModuleViewPage } from "./pages/ModuleViewPage";
import { SignIn } from "./pages/SignIn";
import { clearModuleState, modulesWithState } from "./state/moduleState";

function linkClass({ isActive }: { isActive: boolean }): string {
  return `block rounded px-3 py-1.5 text-sm ${isActive ? "bg-slate-200 font-medium" : "hover:bg-slate-100"}`;
}

/** The navigation: the operators' pages the user may read, and the module views the server lists
 * for this user (only those whose permission it holds). */
function Shell({ nav }: { nav: Nav | null }) {
  const { me, signOut, holds } = useSession();
  const views = nav?.views ?? [];
  const modules = [...new Set(views.map((view) => view.module))];
  return (
    <div className="flex min-h-screen">
      <aside className="w-56 shrink-0 border-r border-slate-200 bg-white p-4" data-testid="nav">
        <p className="mb-4 text-lg font-semibold">Trafi</p>
        <nav className="flex flex-col gap-1">
          {holds("modules:read") ? (
            <>
              <NavLink to="/modules" className={linkClass}>
                Modules
              </NavLink>
              <NavLink to="/health" className={linkClass}>
                Health
              </NavLink>
            </>
          ) : null}
          {modules.map((module) => (
            <div key={module} className="mt-3" data-testid={`nav-module-${module}`}>
              <p className="px-3 text-xs font-semibold uppercase tracking-wide text-slate-500">{module}</p>
              {views
                .filter((view) => view.module === module)
                .map((view) => (
                  <NavLink key={view.id} to={`/views/${view.module}/${view.id}`} className={linkClass} data-testid={`nav-view-${view.module}-${view.id}`}>
                    {view.navLabel}
                  </NavLink>
                ))}
            </div>
          ))}
        </nav>
        <div className="mt-8 border-t border-slate-200 pt-4 text-xs text-slate-500">
          <p>
            {me?.name} · {me?.tenant}
          </p>
          <Button variant="ghost" size="sm" className="mt-2 px-0" onClick={() => void signOut()}>
            Sign out
          </Button>
        </div>
      </aside>
      <main className="flex-1 p-6">
        <Routes>
          <Route path="/" element={<Navigate to={holds("modules:read") ? "/modules" : views[0] ? `/views/${views[0].module}/${views[0].id}` : "/welcome"} replace />} />
          <Route path="/modules" element={<ModulesPage />} />
          <Route path="/modules/:name" element={<ModuleDetailPage />} />
          <Route path="/health" element={<HealthPage />} />
          <Route path="/views/:module/:view" element={<ModuleViewPage />} />
          <Route path="/welcome" element={<p className="text-sm text-slate-500">Nothing here for your roles yet.</p>} />
          <Route path="*" element={<p className="text-sm text-slate-500">No such page.</p>} />
        </Routes>
      </main>
    </div>
  );
}

function SignedIn() {
  const { modulesVersion } = useLive();
  const nav = useFetched<Nav>("/api/admin/nav", [modulesVersion]);
  // A module whose views left the nav (disabled, removed) loses its client state.
  useEffect(() => {
    if (!nav.data) return;
    const present = new Set(nav.data.views.map((view) => view.module));
    modulesWithState()
      .filter((module) => !present.has(module))
      .forEach(clearModuleState);
  }, [nav.data]);
  return <Shell nav={nav.data} />;
}

function Root() {
  const { me, loading } = useSession();
  const dev = useFetched<Nav>(me ? "/api/admin/nav" : null);
  if (loading) return null;
  if (!me) return <SignIn />;
  return (
    <LiveProvider enabled dev={dev.data?.dev ?? false}>
      <SignedIn />
    </LiveProvider>
  );
}

export function App() {
  return (
    <BrowserRouter basename="/admin">
      <SessionProvider>
        <Root />
      </SessionProvider>
    </BrowserRouter>
  );
}
