import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { ApiFailure, api } from "./api";
import type { Me } from "./types";

interface Session {
  me: Me | null;
  loading: boolean;
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
  holds: (permission: string) => boolean;
}

const SessionContext = createContext<Session | null>(null);

/** Who is signed in (GET /api/auth/me): the cookie is HttpOnly, so the server is asked. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);

  const load = useCallback(async () => {
    try {
      setMe(await api<Me>("GET", "/api/auth/me"));
    } catch (error) {
      if (!(error instanceof ApiFailure && error.status === 401)) throw error;
      setMe(null);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const signIn = useCallback(
    async (username: string, password: string) => {
      await api("POST", "/api/auth/login", { username, password });
      await load();
    },
    [load],
  );

  const signOut = useCallback(async () => {
    await api("POST", "/api/auth/logout");
    sessionStorage.clear();
    setMe(null);
  }, []);

  const holds = useCallback((permission: string) => me?.permissions.includes(permission) ?? false, [me]);

  return <SessionContext.Provider value={{ me, loading, signIn, signOut, holds }}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession outside SessionProvider");
  return session;
}
