import type { RefObject } from "react";
import { FLAG_OPTIONS, toggleFlag } from "../../annotation/draft";
import styles from "./Annotation.module.css";

interface DetailsPanelProps {
  flags: string[];
  rationale: string;
  rewrite: string;
  rewriteOpen: boolean;
  onFlags: (flags: string[]) => void;
  onRationale: (text: string) => void;
  onRewrite: (text: string) => void;
  onRewriteOpen: (open: boolean) => void;
  rationaleRef: RefObject<HTMLTextAreaElement | null>;
  rewriteRef: RefObject<HTMLTextAreaElement | null>;
}

/** Optional parts of a label: flags, a rationale and a rewritten response. */
export function DetailsPanel(props: DetailsPanelProps) {
  const { flags, rationale, rewrite, rewriteOpen, onFlags, onRationale, onRewrite, onRewriteOpen } = props;
  return (
    <section className={styles.details} aria-label="Optional details">
      <fieldset className={styles.flags}>
        <legend className={styles.fieldLabel}>Flags</legend>
        <div className={styles.flagRow}>
          {FLAG_OPTIONS.map((f) => (
            <label key={f.value} className={styles.flag}>
              <input
                type="checkbox"
                checked={flags.includes(f.value)}
                onChange={() => onFlags(toggleFlag(flags, f.value))}
              />
              <span>{f.label}</span>
              {f.key ? (
                <kbd className={styles.flagKey} aria-hidden="true">
                  {f.key}
                </kbd>
              ) : null}
            </label>
          ))}
        </div>
        <p className={styles.help}>A flagged item may be submitted without an answer.</p>
      </fieldset>
      <div className={styles.textField}>
        <label htmlFor="rationale" className={styles.fieldLabel}>
          Rationale <span className={styles.optional}>(optional)</span> <kbd aria-hidden="true">r</kbd>
        </label>
        <textarea
          id="rationale"
          ref={props.rationaleRef}
          rows={2}
          value={rationale}
          onChange={(e) => onRationale(e.target.value)}
          placeholder="Why this judgement? One or two sentences help reviewers."
        />
      </div>
      <details
        className={styles.rewrite}
        open={rewriteOpen}
        onToggle={(e) => onRewriteOpen((e.currentTarget as HTMLDetailsElement).open)}
      >
        <summary>
          Suggest a better response <span className={styles.optional}>(optional)</span>{" "}
          <kbd aria-hidden="true">w</kbd>
        </summary>
        <label htmlFor="rewrite" className="visually-hidden">
          Rewritten response
        </label>
        <textarea
          id="rewrite"
          ref={props.rewriteRef}
          rows={6}
          value={rewrite}
          onChange={(e) => onRewrite(e.target.value)}
          placeholder="Write the response as it should have been (Markdown)."
        />
      </details>
    </section>
  );
}
