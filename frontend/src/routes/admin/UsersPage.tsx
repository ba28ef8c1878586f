import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useMe } from "../../auth/AuthContext";
import { api, unwrap } from "../../client/api";
import { errorMessage } from "../../client/errors";
import type { UserCreate, UserRead } from "../../client/types";
import { ErrorNotice } from "../../components/ui/ErrorNotice";
import { formatDateTime } from "../../lib/format";
import { usersKey } from "../queries";
import { useDocumentTitle } from "../../lib/useDocumentTitle";

export function UsersPage() {
  useDocumentTitle("Users");
  const me = useMe();
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: usersKey, queryFn: () => unwrap(api.GET("/api/users")) });
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const create = useMutation({
    mutationFn: (body: UserCreate) => unwrap(api.POST("/api/users", { body })),
    onSuccess: (user) => {
      setMessage({ ok: true, text: `Created ${user.username}.` });
      return queryClient.invalidateQueries({ queryKey: usersKey });
    },
    onError: (err) => setMessage({ ok: false, text: errorMessage(err) }),
  });
  const setActive = useMutation({
    mutationFn: (u: UserRead) =>
      unwrap(api.PATCH("/api/users/{user_id}", { params: { path: { user_id: u.id } }, body: { is_active: !u.is_active } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: usersKey }),
    onError: (err) => setMessage({ ok: false, text: errorMessage(err) }),
  });

  return (
    <div className="page stack">
      <header className="page-header">
        <h1>Users</h1>
      </header>
      <CreateUserForm busy={create.isPending} onCreate={(body) => create.mutateAsync(body).then(() => true, () => false)} />
      <div className="live-region" aria-live="polite">
        {message ? (
          <p role={message.ok ? "status" : "alert"} className={message.ok ? "success-box" : "error-box"}>
            {message.text}
          </p>
        ) : null}
      </div>
      {users.isError ? <ErrorNotice error={users.error} /> : null}
      <div className="table-wrap">
        <table className="table">
          <caption className="visually-hidden">All users</caption>
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(users.data ?? []).map((u) => (
              <tr key={u.id}>
                <td>
                  <strong>{u.username}</strong>
                </td>
                <td>{u.display_name || <span className="muted">–</span>}</td>
                <td>{u.role}</td>
                <td>{formatDateTime(u.created_at)}</td>
                <td>
                  <span className={u.is_active ? "badge badge-ok" : "badge"}>{u.is_active ? "active" : "inactive"}</span>
                </td>
                <td className="align-right">
                  {u.id === me.id ? (
                    <span className="muted small">you</span>
                  ) : (
                    <button
                      type="button"
                      className={`btn btn-quiet ${u.is_active ? "btn-danger-text" : ""}`}
                      onClick={() => setActive.mutate(u)}
                      aria-label={`${u.is_active ? "Deactivate" : "Activate"} ${u.username}`}
                    >
                      {u.is_active ? "Deactivate" : "Activate"}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function CreateUserForm({ busy, onCreate }: { busy: boolean; onCreate: (body: UserCreate) => Promise<boolean> }) {
  const [username, setUsername] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<UserCreate["role"]>("user");
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await onCreate({ username: username.trim(), display_name: displayName.trim(), password, role });
    if (ok) {
      setUsername("");
      setDisplayName("");
      setPassword("");
      setRole("user");
    }
  };
  return (
    <form className="inline-form card" onSubmit={onSubmit} aria-label="Create a user">
      <div className="field">
        <label htmlFor="new-username">Username</label>
        <input id="new-username" required pattern="[A-Za-z0-9_.@\-]+" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
      </div>
      <div className="field">
        <label htmlFor="new-display-name">Display name</label>
        <input id="new-display-name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} autoComplete="off" />
      </div>
      <div className="field">
        <label htmlFor="new-password">Password (8+ characters)</label>
        <input
          id="new-password"
          type="password"
          required
          minLength={8}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          autoComplete="new-password"
        />
      </div>
      <div className="field">
        <label htmlFor="new-role">Global role</label>
        <select id="new-role" value={role} onChange={(e) => setRole(e.target.value as UserCreate["role"])}>
          <option value="user">user</option>
          <option value="admin">admin</option>
        </select>
      </div>
      <button type="submit" className="btn btn-primary" disabled={busy}>
        Create user
      </button>
    </form>
  );
}
