import { useState } from "react";
import { Markdown } from "../Markdown/Markdown";
import styles from "./Admin.module.css";

interface GuidelinesEditorProps {
  value: string;
  onChange: (value: string) => void;
}

/** Guidelines in Markdown, with a preview exactly as annotators will see them. */
export function GuidelinesEditor({ value, onChange }: GuidelinesEditorProps) {
  const [tab, setTab] = useState<"write" | "preview">("write");
  return (
    <div className={styles.guidelinesEditor}>
      <div className={styles.editorTabs} role="tablist" aria-label="Guidelines editor">
        {(["write", "preview"] as const).map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`guidelines-tab-${t}`}
            aria-selected={tab === t}
            aria-controls={`guidelines-panel-${t}`}
            className={`${styles.editorTab} ${tab === t ? styles.editorTabActive : ""}`}
            onClick={() => setTab(t)}
          >
            {t === "write" ? "Write" : "Preview"}
          </button>
        ))}
      </div>
      {tab === "write" ? (
        <div role="tabpanel" id="guidelines-panel-write" aria-labelledby="guidelines-tab-write">
          <label htmlFor="guidelines" className="visually-hidden">
            Guidelines (Markdown)
          </label>
          <textarea
            id="guidelines"
            className={styles.guidelinesText}
            rows={12}
            value={value}
            onChange={(e) => onChange(e.target.value)}
            placeholder={"# What to look for\n\n- Prefer the response that answers the question…"}
          />
        </div>
      ) : (
        <div
          role="tabpanel"
          id="guidelines-panel-preview"
          aria-labelledby="guidelines-tab-preview"
          className={styles.preview}
        >
          {value.trim() ? <Markdown>{value}</Markdown> : <p className="muted">Nothing to preview yet.</p>}
        </div>
      )}
    </div>
  );
}
