import { useEffect } from "react";
import { useLocation, useNavigate } from "react-router";
import { setUnauthorizedHandler } from "../client/api";
import { useAuth } from "./AuthContext";

/** Any 401 from the API (an expired session) sends the user to the login page, then back here. */
export function UnauthorizedRedirect() {
  const navigate = useNavigate();
  const location = useLocation();
  const { forget } = useAuth();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      if (location.pathname === "/login") return;
      forget();
      navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    });
    return () => setUnauthorizedHandler(null);
  }, [navigate, location, forget]);
  return null;
}
