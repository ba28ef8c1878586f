import type { Criterion } from "../../client/types";
import { Segmented } from "../ui/Segmented";
import styles from "./Annotation.module.css";

/** The points of a criterion's scale, low to high, with their names. */
export function scalePoints(c: Criterion): { value: number; label: string }[] {
  const points = [];
  for (let v = c.min ?? 1; v <= (c.max ?? 5); v++) {
    const name = c.labels?.[v - (c.min ?? 1)];
    points.push({ value: v, label: name ? `${v} · ${name}` : String(v) });
  }
  return points;
}

/** The score a digit key gives on this scale: the digit itself on 0–9 scales, else the n-th point. */
export function scoreForDigit(c: Criterion, digit: number): number | null {
  const min = c.min ?? 1;
  const max = c.max ?? 5;
  const value = min >= 0 && max <= 9 ? digit : min + digit - 1;
  return value >= min && value <= max ? value : null;
}

/** The digit for a point, shown only where it differs from the point's own number. */
function keyHint(c: Criterion, value: number): string | undefined {
  for (let d = 0; d <= 9; d++) if (scoreForDigit(c, d) === value) return d === value ? undefined : String(d);
  return undefined;
}

interface RatingControlsProps {
  criteria: Criterion[];
  scores: Record<string, number>;
  active: number;
  onScore: (name: string, value: number) => void;
  onActivate: (index: number) => void;
}

/** One control per rubric criterion, with its description in view. */
export function RatingControls({ criteria, scores, active, onScore, onActivate }: RatingControlsProps) {
  return (
    <section className={styles.rubric} aria-labelledby="rubric-heading">
      <h2 id="rubric-heading" className={styles.sectionTitle}>
        Scores
      </h2>
      {criteria.map((c, i) => (
        <div
          key={c.name}
          className={`${styles.criterion} ${i === active ? styles.criterionActive : ""}`}
          onFocus={() => onActivate(i)}
          onClick={() => onActivate(i)}
          data-criterion={c.name}
        >
          <Segmented<number>
            name={`score-${c.name}`}
            legend={c.name.replace(/[_-]/g, " ")}
            value={scores[c.name] ?? null}
            description={c.description || undefined}
            onChange={(v) => onScore(c.name, v)}
            options={scalePoints(c).map((p) => {
              const hint = keyHint(c, p.value);
              return hint === undefined ? p : { ...p, hint };
            })}
          />
        </div>
      ))}
    </section>
  );
}
