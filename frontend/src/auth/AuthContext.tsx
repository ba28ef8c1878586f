import { type QueryClient, useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useMemo, type ReactNode } from "react";
import { api, unwrap } from "../client/api";
import { setCsrfToken } from "../client/csrf";
import { ApiError } from "../client/errors";
import type { Me } from "../client/types";

interface AuthState {
  me: Me | null;
  loading: boolean;
  login: (username: string, password: string) => Promise<Me>;
  logout: () => Promise<void>;
  forget: () => void;
}

const AuthContext = createContext<AuthState | null>(null);

export const ME_KEY = ["auth", "me"] as const;

/** Drop every cached answer except "who am I" (its observer must keep its query object). */
function dropUserData(queryClient: QueryClient): void {
  void queryClient.cancelQueries({ predicate: (q) => q.queryKey[0] !== ME_KEY[0] });
  queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== ME_KEY[0] });
}

async function fetchMe(): Promise<Me | null> {
  try {
    const me = await unwrap(api.GET("/api/auth/me"));
    setCsrfToken(me.csrf_token);
    return me;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/** Who is logged in (from GET /api/auth/me, which also hands back the CSRF token after a reload). */
export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const meQuery = useQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: Infinity, retry: 1 });

  const login = useCallback(
    async (username: string, password: string) => {
      const me = await unwrap(api.POST("/api/auth/login", { body: { username, password } }));
      setCsrfToken(me.csrf_token);
      dropUserData(queryClient);
      queryClient.setQueryData(ME_KEY, me);
      return me;
    },
    [queryClient],
  );

  const forget = useCallback(() => {
    setCsrfToken(null);
    queryClient.setQueryData(ME_KEY, null);
    dropUserData(queryClient);
  }, [queryClient]);

  const logout = useCallback(async () => {
    try {
      await unwrap(api.POST("/api/auth/logout"));
    } finally {
      forget();
    }
  }, [forget]);

  const value = useMemo<AuthState>(
    () => ({ me: meQuery.data ?? null, loading: meQuery.isPending, login, logout, forget }),
    [meQuery.data, meQuery.isPending, login, logout, forget],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth outside AuthProvider");
  return ctx;
}

/** The logged-in user; only for components under RequireAuth. */
export function useMe(): Me {
  const { me } = useAuth();
  if (!me) throw new Error("useMe without a logged-in user");
  return me;
}
