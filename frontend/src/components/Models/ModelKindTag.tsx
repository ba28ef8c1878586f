import type { ModelKind } from "../../client/types";
import styles from "./Models.module.css";

/** base / reward / policy as a small tag (the word is always there, colour only helps). */
export function ModelKindTag({ kind }: { kind: ModelKind | string }) {
  return <span className={`${styles.kind} ${styles[`kind_${kind}`] ?? ""}`}>{kind}</span>;
}
