import { useEffect, useRef } from "react";
import { Markdown } from "../Markdown/Markdown";
import styles from "./Annotation.module.css";

interface GuidelinesPanelProps {
  open: boolean;
  guidelines: string;
  onClose: () => void;
}

/** The project's guidelines in a side panel over the page (opening it moves nothing underneath). */
export function GuidelinesPanel({ open, guidelines, onClose }: GuidelinesPanelProps) {
  const ref = useRef<HTMLElement>(null);
  const returnTo = useRef<Element | null>(null);
  useEffect(() => {
    if (open) {
      returnTo.current = document.activeElement;
      ref.current?.focus();
    } else if (returnTo.current instanceof HTMLElement) {
      returnTo.current.focus();
      returnTo.current = null;
    }
  }, [open]);
  return (
    <aside
      ref={ref}
      className={`${styles.guidelines} ${open ? styles.guidelinesOpen : ""}`}
      aria-labelledby="guidelines-heading"
      aria-hidden={!open}
      inert={!open}
      tabIndex={-1}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <header className={styles.guidelinesHeader}>
        <h2 id="guidelines-heading">Guidelines</h2>
        <button type="button" className="btn btn-quiet" onClick={onClose}>
          Close <kbd>g</kbd>
        </button>
      </header>
      <div className={styles.guidelinesBody}>
        {guidelines.trim() ? <Markdown>{guidelines}</Markdown> : <p className="muted">This project has no guidelines yet.</p>}
      </div>
    </aside>
  );
}
