import { NavLink, Outlet, useNavigate } from "react-router";
import { useAuth, useMe } from "../../auth/AuthContext";
import styles from "./Layout.module.css";

const ADMIN_LINKS = [
  { to: "/admin/users", label: "Users", soon: false },
  { to: "/jobs", label: "Jobs", soon: false },
  { to: "/models", label: "Models", soon: false },
  { to: "/datasets", label: "Datasets", soon: false },
];

/** Page frame: a slim top bar with navigation and the user, then the page. */
export function AppShell() {
  const me = useMe();
  const { logout } = useAuth();
  const navigate = useNavigate();
  const navClass = ({ isActive }: { isActive: boolean }) => `${styles.navLink} ${isActive ? styles.navActive : ""}`;
  return (
    <div className={styles.shell}>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className={styles.topbar}>
        <NavLink to="/" className={styles.brand} aria-label="Prefloop home">
          <span className={styles.logo} aria-hidden="true">
            P
          </span>
          Prefloop
        </NavLink>
        <nav aria-label="Main" className={styles.nav}>
          <NavLink to="/" end className={navClass}>
            My projects
          </NavLink>
          {me.role === "admin"
            ? ADMIN_LINKS.map((l) => (
                <NavLink key={l.to} to={l.to} className={navClass}>
                  {l.label}
                  {l.soon ? <span className={styles.soon}>soon</span> : null}
                </NavLink>
              ))
            : null}
        </nav>
        <div className={styles.user}>
          <span className={styles.userName}>
            {me.display_name || me.username}
            {me.role === "admin" ? <span className={styles.roleTag}>admin</span> : null}
          </span>
          <button
            type="button"
            className="btn btn-quiet"
            onClick={async () => {
              await logout().catch(() => undefined);
              navigate("/login");
            }}
          >
            Log out
          </button>
        </div>
      </header>
      <main id="main" className={styles.main} tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
