import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useMe } from "../../auth/AuthContext";
import { api, unwrap } from "../../client/api";
import { errorMessage } from "../../client/errors";
import type { Member, ProjectRole } from "../../client/types";
import { useProjectContext } from "../../components/Layout/ProjectLayout";
import { ErrorNotice } from "../../components/ui/ErrorNotice";
import { membersKey, usersKey } from "../queries";

const ROLES: ProjectRole[] = ["annotator", "reviewer", "manager"];

export function MembersPage() {
  const { project, canManage } = useProjectContext();
  const me = useMe();
  const queryClient = useQueryClient();
  const path = { params: { path: { project_id: project.id } } };
  const members = useQuery({
    queryKey: membersKey(project.id),
    queryFn: () => unwrap(api.GET("/api/projects/{project_id}/members", path)),
    enabled: canManage,
  });
  const users = useQuery({
    queryKey: usersKey,
    queryFn: () => unwrap(api.GET("/api/users")),
    enabled: me.role === "admin",
  });
  const [error, setError] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: membersKey(project.id) });

  const upsert = useMutation({
    mutationFn: (body: { user_id?: number; username?: string; role: ProjectRole; paused: boolean }) =>
      unwrap(api.PUT("/api/projects/{project_id}/members", { ...path, body })),
    onSuccess: () => {
      setError(null);
      return refresh();
    },
    onError: (err) => setError(errorMessage(err)),
  });
  const remove = useMutation({
    mutationFn: (userId: number) =>
      unwrap(
        api.DELETE("/api/projects/{project_id}/members/{user_id}", {
          params: { path: { project_id: project.id, user_id: userId } },
        }),
      ),
    onSuccess: () => {
      setError(null);
      return refresh();
    },
    onError: (err) => setError(errorMessage(err)),
  });

  if (!canManage) return <p className="notice">Only the project’s managers can see its members.</p>;
  const memberIds = new Set((members.data ?? []).map((m) => m.user_id));
  const candidates = (users.data ?? []).filter((u) => !memberIds.has(u.id) && u.is_active);

  return (
    <section aria-labelledby="members-heading" className="stack">
      <h2 id="members-heading" className="visually-hidden">
        Members
      </h2>
      <AddMemberForm
        busy={upsert.isPending}
        suggestions={candidates.map((u) => u.username)}
        onAdd={(username, role) => upsert.mutate({ username, role, paused: false })}
      />
      {me.role === "admin" ? (
        <p className="help">
          Someone without an account? <Link to="/admin/users">Create a user</Link> first.
        </p>
      ) : null}
      <div className="live-region" aria-live="polite">{error ? <p role="alert" className="error-box">{error}</p> : null}</div>
      {members.isError ? <ErrorNotice error={members.error} /> : null}
      <div className="table-wrap">
        <table className="table">
          <caption className="visually-hidden">Members of {project.name}</caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Paused</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(members.data ?? []).map((m) => (
              <MemberRow
                key={m.user_id}
                member={m}
                onChange={(role, paused) => upsert.mutate({ user_id: m.user_id, role, paused })}
                onRemove={() => remove.mutate(m.user_id)}
              />
            ))}
            {members.isSuccess && members.data.length === 0 ? (
              <tr>
                <td colSpan={4} className="muted">
                  No members yet. Add annotators above.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function AddMemberForm({
  busy,
  suggestions,
  onAdd,
}: {
  busy: boolean;
  suggestions: string[];
  onAdd: (username: string, role: ProjectRole) => void;
}) {
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<ProjectRole>("annotator");
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!username.trim()) return;
    onAdd(username.trim(), role);
    setUsername("");
  };
  return (
    <form className="inline-form card" onSubmit={onSubmit} aria-label="Add a member">
      <div className="field">
        <label htmlFor="member-username">Username</label>
        <input
          id="member-username"
          list="member-suggestions"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          autoComplete="off"
          required
        />
        <datalist id="member-suggestions">
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      </div>
      <div className="field">
        <label htmlFor="member-role">Role</label>
        <select id="member-role" value={role} onChange={(e) => setRole(e.target.value as ProjectRole)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className="btn btn-primary" disabled={busy}>
        Add member
      </button>
    </form>
  );
}

function MemberRow({
  member,
  onChange,
  onRemove,
}: {
  member: Member;
  onChange: (role: ProjectRole, paused: boolean) => void;
  onRemove: () => void;
}) {
  const id = `member-${member.user_id}`;
  return (
    <tr>
      <td>
        <strong>{member.username}</strong>
        {member.display_name && member.display_name !== member.username ? (
          <span className="muted"> · {member.display_name}</span>
        ) : null}
      </td>
      <td>
        <label htmlFor={`${id}-role`} className="visually-hidden">
          Role of {member.username}
        </label>
        <select id={`${id}-role`} value={member.role} onChange={(e) => onChange(e.target.value as ProjectRole, member.paused)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </td>
      <td>
        <label className="checkbox">
          <input type="checkbox" checked={member.paused} onChange={(e) => onChange(member.role, e.target.checked)} />
          <span className="visually-hidden">Pause {member.username}</span>
        </label>
      </td>
      <td className="align-right">
        <button
          type="button"
          className="btn btn-quiet btn-danger-text"
          onClick={() => {
            if (window.confirm(`Remove ${member.username} from this project? Their labels stay.`)) onRemove();
          }}
        >
          Remove
        </button>
      </td>
    </tr>
  );
}
