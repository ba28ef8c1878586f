import { useQueryClient } from "@tanstack/react-query";
import { ImportUploader } from "../../components/Admin/ImportUploader";
import { PromptTable } from "../../components/Admin/PromptTable";
import { useProjectContext } from "../../components/Layout/ProjectLayout";
import { progressKey, promptsKey } from "../queries";

export function DataPage() {
  const { project, canManage } = useProjectContext();
  const queryClient = useQueryClient();
  if (!canManage) return <p className="notice">Only the project’s managers can import data.</p>;
  return (
    <div className="stack">
      <section className="card" aria-labelledby="import-heading">
        <h2 id="import-heading">Import prompts and responses</h2>
        <ImportUploader
          projectId={project.id}
          onImported={() => {
            void queryClient.invalidateQueries({ queryKey: progressKey(project.id) });
            void queryClient.invalidateQueries({ queryKey: promptsKey(project.id) });
          }}
        />
      </section>
      <section className="card" aria-labelledby="prompts-heading">
        <h2 id="prompts-heading">Prompts</h2>
        <PromptTable projectId={project.id} />
      </section>
    </div>
  );
}
