import type { JobState } from "../../client/types";
import styles from "./Jobs.module.css";

export const ACTIVE_STATES: JobState[] = ["queued", "running"];

/** A job's state as a small coloured tag (the word is always there, colour only helps). */
export function JobStateTag({ state }: { state: JobState }) {
  return <span className={`${styles.state} ${styles[`state_${state}`] ?? ""}`}>{state}</span>;
}
