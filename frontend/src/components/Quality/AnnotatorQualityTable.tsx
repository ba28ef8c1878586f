import type { AnnotatorQuality } from "../../client/types";
import { formatMs, formatNumber } from "../../lib/format";
import { flaggedFirst, formatShare, isProjectRole } from "../../quality/format";
import { FlagBadges } from "./FlagBadges";
import styles from "./Quality.module.css";

interface AnnotatorQualityTableProps {
  rows: AnnotatorQuality[];
  /** Pause or resume someone's work (null while nothing can be changed). */
  onPause: ((row: AnnotatorQuality, paused: boolean) => void) | null;
  busyUserId: number | null;
}

function withCount(share: number | null, n: number, what: string): string {
  return share == null ? "–" : `${formatShare(share)} (${formatNumber(n)} ${what})`;
}

/** Each annotator's record: accuracy on gold, agreement with the others, position bias, speed, weight, flags. */
export function AnnotatorQualityTable({ rows, onPause, busyUserId }: AnnotatorQualityTableProps) {
  return (
    <div className="table-wrap">
      <table className="table" aria-label="Annotator quality">
        <thead>
          <tr>
            <th scope="col">Annotator</th>
            <th scope="col" className="num">Labels</th>
            <th scope="col" className="num">Gold accuracy</th>
            <th scope="col" className="num">Consensus</th>
            <th scope="col" className="num">First pick vs chance</th>
            <th scope="col" className="num">Median time</th>
            <th scope="col" className="num">Fast</th>
            <th scope="col" className="num">Weight</th>
            <th scope="col">Flags</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {flaggedFirst(rows).map((r) => (
            <tr key={r.user_id} className={r.flags.length ? styles.flagged : undefined} data-user={r.username}>
              <th scope="row">
                <span className={styles.who}>
                  <span>
                    {r.username}
                    {r.paused ? <span className="badge">paused</span> : null}
                  </span>
                  {r.display_name && r.display_name !== r.username ? <small>{r.display_name}</small> : null}
                </span>
              </th>
              <td className="num">{formatNumber(r.labels)}</td>
              <td className="num">{withCount(r.gold_accuracy, r.gold_items, "gold")}</td>
              <td className="num">{withCount(r.consensus_agreement, r.compared_items, "items")}</td>
              <td className="num">
                {r.first_pick_share == null ? "–" : `${formatShare(r.first_pick_share)} vs ${formatShare(r.first_pick_chance)}`}
              </td>
              <td className="num">{formatMs(r.median_time_ms)}</td>
              <td className="num">{formatShare(r.fast_share)}</td>
              <td className="num">{r.reliability_weight.toFixed(2)}</td>
              <td>
                <FlagBadges flags={r.flags} />
              </td>
              <td className="align-right">
                {onPause && isProjectRole(r.role) ? (
                  <button
                    type="button"
                    className={`btn ${styles.pauseButton}`}
                    onClick={() => onPause(r, !r.paused)}
                    disabled={busyUserId === r.user_id}
                    aria-label={`${r.paused ? "Resume" : "Pause"} ${r.username}`}
                  >
                    {r.paused ? "Resume" : "Pause"}
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
          {rows.length === 0 ? (
            <tr>
              <td colSpan={10} className="muted">
                Nobody has labeled anything yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
