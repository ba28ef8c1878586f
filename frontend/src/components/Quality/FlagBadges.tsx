import { flagInfo } from "../../quality/format";
import styles from "./Quality.module.css";

/** An annotator's flags as red badges (the word is always there; the reason is in the tooltip). */
export function FlagBadges({ flags }: { flags: string[] }) {
  if (flags.length === 0) return <span className="muted">–</span>;
  return (
    <ul className={styles.flags} aria-label="Flags">
      {flags.map((flag) => {
        const info = flagInfo(flag);
        return (
          <li key={flag}>
            <span className="badge badge-bad" title={info.description} data-flag={flag}>
              {info.label}
            </span>
          </li>
        );
      })}
    </ul>
  );
}
