import type { JobKind, JobKindInfo } from "../../client/types";
import { KIND_TITLES } from "../../jobs/kinds";
import styles from "./LaunchJob.module.css";

interface JobKindPickerProps {
  kinds: JobKindInfo[];
  value: JobKind | null;
  onChange: (kind: JobKind) => void;
}

/** The kinds of job as radio cards: a title, what it does (the API's own description) and the queue it runs on. */
export function JobKindPicker({ kinds, value, onChange }: JobKindPickerProps) {
  return (
    <fieldset className={styles.kinds}>
      <legend>What to run</legend>
      <div className={styles.kindGrid}>
        {kinds.map((k) => {
          const id = `job-kind-${k.kind}`;
          return (
            <label key={k.kind} className={styles.kind}>
              <input
                type="radio"
                name="job-kind"
                value={k.kind}
                checked={value === k.kind}
                onChange={() => onChange(k.kind)}
                aria-labelledby={`${id}-title`}
                aria-describedby={`${id}-description ${id}-queue`}
              />
              <span>
                <span className={styles.kindTitle}>
                  <span id={`${id}-title`}>{KIND_TITLES[k.kind]}</span>
                  <span className={styles.queue} id={`${id}-queue`} title={`Runs on the ${k.queue} queue`}>
                    {k.queue}
                  </span>
                </span>
                <span className={styles.kindDescription} id={`${id}-description`}>
                  {k.description}
                </span>
              </span>
            </label>
          );
        })}
      </div>
    </fieldset>
  );
}
