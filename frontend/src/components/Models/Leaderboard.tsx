import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../../client/api";
import { formatRating, formatRecord } from "../../models/metrics";
import { leaderboardKey, projectsKey } from "../../routes/queries";
import { ErrorNotice } from "../ui/ErrorNotice";
import { LeaderboardChart } from "./LeaderboardChart";
import { ModelKindTag } from "./ModelKindTag";
import styles from "./Models.module.css";

/** Versions ranked by blind human pairwise judgements (Bradley–Terry on the Elo scale), overall or from one project. */
export function Leaderboard() {
  const [projectId, setProjectId] = useState<number | null>(null);
  const projects = useQuery({ queryKey: projectsKey, queryFn: () => unwrap(api.GET("/api/projects")) });
  const board = useQuery({
    queryKey: leaderboardKey(projectId),
    queryFn: () => unwrap(api.GET("/api/models/leaderboard", { params: { query: projectId ? { project_id: projectId } : {} } })),
  });
  const pairwise = (projects.data ?? []).filter((p) => p.task_kind === "pairwise");
  const entries = board.data ?? [];

  return (
    <section className="card" aria-labelledby="leaderboard-heading">
      <header className={styles.boardHeader}>
        <div>
          <h2 id="leaderboard-heading">Leaderboard</h2>
          <p className="help">
            From human pairwise judgements between two versions’ responses (e.g. blind evaluation rounds). Rating on the Elo
            scale: 1000 is average, +400 means 10:1 odds of being preferred; 95% bootstrap interval in brackets.
          </p>
        </div>
        {pairwise.length ? (
          <div className="field">
            <label htmlFor="leaderboard-project">Judgements from</label>
            <select
              id="leaderboard-project"
              value={projectId ?? ""}
              onChange={(e) => setProjectId(e.target.value ? Number(e.target.value) : null)}
            >
              <option value="">Every pairwise project</option>
              {pairwise.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
      </header>
      {board.isError ? <ErrorNotice error={board.error} /> : null}
      {board.isPending ? (
        <p className="muted" role="status">
          Loading…
        </p>
      ) : null}
      {board.isSuccess && entries.length === 0 ? (
        <div className="empty">
          No human comparisons between model versions yet. An evaluation job with “Open a blind human evaluation round”
          makes a pairwise project whose judgements rank the versions here.
        </div>
      ) : null}
      {entries.length ? (
        <div className={styles.board}>
          <div className="table-wrap">
            <table className="table" aria-label="Leaderboard">
              <thead>
                <tr>
                  <th scope="col" className="num">Rank</th>
                  <th scope="col">Model</th>
                  <th scope="col">Kind</th>
                  <th scope="col" className="num">Rating (95% CI)</th>
                  <th scope="col" className={`num ${styles.rating}`}>
                    <abbr title="wins / losses / ties">W / L / T</abbr>
                  </th>
                  <th scope="col" className="num">Comparisons</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e, i) => (
                  <tr key={e.model_version_id} data-model-id={e.model_version_id}>
                    <td className="num">{i + 1}</td>
                    <th scope="row">
                      {e.name} <span className="muted small">#{e.model_version_id}</span>
                    </th>
                    <td>
                      <ModelKindTag kind={e.kind} />
                    </td>
                    <td className={`num ${styles.rating}`}>{formatRating(e)}</td>
                    <td className={`num ${styles.rating}`}>{formatRecord(e)}</td>
                    <td className="num">{e.comparisons}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LeaderboardChart entries={entries} />
        </div>
      ) : null}
    </section>
  );
}
