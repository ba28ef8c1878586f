import { Navigate, Outlet, useLocation } from "react-router";
import { useAuth } from "./AuthContext";

/** Routes below need a logged-in user; otherwise go to the login page and come back after. */
export function RequireAuth() {
  const { me, loading } = useAuth();
  const location = useLocation();
  if (loading) return <p className="page-loading" role="status">Loading…</p>;
  if (!me) {
    const next = location.pathname + location.search;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <Outlet />;
}

/** Routes below are for admins only. */
export function RequireAdmin() {
  const { me } = useAuth();
  if (me?.role !== "admin") return <p className="notice">Only an admin can see this page.</p>;
  return <Outlet />;
}
