import { useInfiniteQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../client/api";
import type { PromptRead } from "../../client/types";
import { formatDateTime, formatNumber } from "../../lib/format";
import { promptsKey } from "../../routes/queries";
import { ErrorNotice } from "../ui/ErrorNotice";

const PAGE = 50;

function promptPreview(p: PromptRead): string {
  if (p.text) return p.text;
  const last = [...(p.messages ?? [])].reverse().find((m) => m.role === "user") ?? p.messages?.[0];
  const content = last?.content;
  return typeof content === "string" ? content : JSON.stringify(content ?? "");
}

/** The project's prompts, fifty at a time. */
export function PromptTable({ projectId }: { projectId: number }) {
  const prompts = useInfiniteQuery({
    queryKey: promptsKey(projectId),
    initialPageParam: 0,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/projects/{project_id}/prompts", {
          params: { path: { project_id: projectId }, query: { after: pageParam, limit: PAGE } },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = prompts.data?.pages.flatMap((p) => p.items) ?? [];
  if (prompts.isError) return <ErrorNotice error={prompts.error} />;
  return (
    <>
      <div className="table-wrap">
        <table className="table" aria-label="Prompts">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Prompt</th>
              <th scope="col" className="num">Responses</th>
              <th scope="col">Split</th>
              <th scope="col">Imported</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((p) => (
              <tr key={p.id}>
                <td>
                  <code title={p.external_id ?? undefined}>{(p.external_id ?? String(p.id)).slice(0, 18)}</code>
                </td>
                <td className="truncate-cell">
                  {p.messages ? <span className="badge">chat</span> : null} {promptPreview(p)}
                </td>
                <td className="num">{formatNumber(p.candidate_count)}</td>
                <td>{p.split ?? "–"}</td>
                <td>{formatDateTime(p.created_at)}</td>
              </tr>
            ))}
            {prompts.isSuccess && rows.length === 0 ? (
              <tr>
                <td colSpan={5} className="muted">
                  No prompts yet. Import a file above.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      {prompts.hasNextPage ? (
        <p>
          <button type="button" className="btn" onClick={() => void prompts.fetchNextPage()} disabled={prompts.isFetchingNextPage}>
            {prompts.isFetchingNextPage ? "Loading…" : "Show more"}
          </button>
        </p>
      ) : null}
    </>
  );
}
