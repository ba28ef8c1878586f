import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { api, unwrap } from "../../client/api";
import { errorMessage } from "../../client/errors";
import { ProjectForm } from "../../components/Admin/ProjectForm";
import { useProjectContext } from "../../components/Layout/ProjectLayout";
import { projectKey, projectsKey } from "../queries";
import { useDocumentTitle } from "../../lib/useDocumentTitle";

function SaveStatus({ error, saved }: { error: string | null; saved: string | null }) {
  return (
    <div className="live-region" aria-live="polite">
      {error ? (
        <p role="alert" className="error-box">
          {error}
        </p>
      ) : saved ? (
        <p className="success-box">{saved}</p>
      ) : null}
    </div>
  );
}

export function NewProjectPage() {
  useDocumentTitle("New project");
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="page narrow">
      <h1>New project</h1>
      <SaveStatus error={error} saved={null} />
      <ProjectForm
        project={null}
        submitLabel="Create project"
        onSave={async (create) => {
          setError(null);
          try {
            const project = await unwrap(api.POST("/api/projects", { body: create }));
            queryClient.setQueryData(projectKey(project.id), project);
            await queryClient.invalidateQueries({ queryKey: projectsKey });
            navigate(`/projects/${project.id}/data`);
          } catch (err) {
            setError(errorMessage(err));
          }
        }}
      />
    </div>
  );
}

export function ProjectSettingsPage() {
  const { project, canManage } = useProjectContext();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  if (!canManage) return <p className="notice">Only the project’s managers can change its settings.</p>;
  return (
    <section className="narrow" aria-label="Settings">
      <SaveStatus error={error} saved={saved} />
      <ProjectForm
        key={project.id}
        project={project}
        submitLabel="Save changes"
        onSave={async (_create, update) => {
          setError(null);
          setSaved(null);
          try {
            const next = await unwrap(
              api.PATCH("/api/projects/{project_id}", { params: { path: { project_id: project.id } }, body: update }),
            );
            queryClient.setQueryData(projectKey(project.id), next);
            await queryClient.invalidateQueries({ queryKey: projectsKey });
            setSaved("Saved.");
          } catch (err) {
            setError(errorMessage(err));
          }
        }}
      />
    </section>
  );
}
