import type { CandidateText } from "../../client/types";
import { letterAt } from "../../quality/answers";
import styles from "./Quality.module.css";

interface RankSelectsProps {
  candidates: CandidateText[];
  ranks: Record<number, number>;
  onChange: (ranks: Record<number, number>) => void;
}

/** A rank per response (1 = best); giving two responses the same rank ties them. */
export function RankSelects({ candidates, ranks, onChange }: RankSelectsProps) {
  const positions = candidates.map((_, i) => i + 1);
  return (
    <fieldset style={{ border: 0, margin: 0, padding: 0 }}>
      <legend className="label">Ranking (1 = best; equal ranks are ties)</legend>
      <div className={styles.rankGrid}>
        {candidates.map((c, i) => (
          <div className="field" key={c.id}>
            <label htmlFor={`rank-${c.id}`}>Response {letterAt(i)}</label>
            <select
              id={`rank-${c.id}`}
              value={ranks[c.id] ?? candidates.length}
              onChange={(e) => onChange({ ...ranks, [c.id]: Number(e.target.value) })}
            >
              {positions.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
        ))}
      </div>
    </fieldset>
  );
}
