import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useMe } from "../../auth/AuthContext";
import { api, unwrap } from "../../client/api";
import { errorMessage } from "../../client/errors";
import { Leaderboard } from "../../components/Models/Leaderboard";
import { ModelTable } from "../../components/Models/ModelTable";
import { ErrorNotice } from "../../components/ui/ErrorNotice";
import { modelsKey } from "../queries";
import { useDocumentTitle } from "../../lib/useDocumentTitle";

export function ModelsPage() {
  useDocumentTitle("Models");
  const me = useMe();
  const queryClient = useQueryClient();
  const models = useQuery({
    queryKey: modelsKey,
    queryFn: () => unwrap(api.GET("/api/models")),
    refetchInterval: (q) => (q.state.data?.some((m) => m.status === "pending") ? 2_000 : 30_000),
  });
  const [message, setMessage] = useState<{ ok: boolean; text: string; jobId?: number } | null>(null);
  const register = useMutation({
    mutationFn: (body: { name: string; source: string }) => unwrap(api.POST("/api/models", { body })),
    onSuccess: (m) => {
      setMessage({ ok: true, text: `Registered ${m.name}; checking that it loads.`, jobId: m.validation_job_id });
      return queryClient.invalidateQueries({ queryKey: modelsKey });
    },
    onError: (err) => setMessage({ ok: false, text: errorMessage(err) }),
  });

  return (
    <div className="page stack">
      <header className="page-header">
        <h1>Models</h1>
      </header>
      {me.role === "admin" ? <RegisterForm busy={register.isPending} onRegister={(b) => register.mutate(b)} /> : null}
      <div className="live-region" aria-live="polite">
        {message ? (
          <p role={message.ok ? "status" : "alert"} className={message.ok ? "success-box" : "error-box"}>
            {message.text} {message.jobId ? <Link to={`/jobs/${message.jobId}`}>See job #{message.jobId}</Link> : null}
          </p>
        ) : null}
      </div>
      {models.isError ? <ErrorNotice error={models.error} /> : null}
      <section aria-labelledby="versions-heading">
        <h2 id="versions-heading">Versions</h2>
        <ModelTable models={models.data ?? []} loaded={models.isSuccess} />
      </section>
      <Leaderboard />
    </div>
  );
}

function RegisterForm({ busy, onRegister }: { busy: boolean; onRegister: (body: { name: string; source: string }) => void }) {
  const [name, setName] = useState("");
  const [source, setSource] = useState("");
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    onRegister({ name: name.trim(), source: source.trim() });
  };
  return (
    <form className="inline-form card" onSubmit={onSubmit} aria-label="Register a base model">
      <div className="field">
        <label htmlFor="model-name">Name</label>
        <input id="model-name" required value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field" style={{ flexGrow: 2 }}>
        <label htmlFor="model-source">Hugging Face id or local path</label>
        <input id="model-source" required value={source} onChange={(e) => setSource(e.target.value)} placeholder="gpt2 or /models/my-llama" />
      </div>
      <button type="submit" className="btn btn-primary" disabled={busy}>
        Register model
      </button>
    </form>
  );
}
