import { useState } from "react";
import { shortHash } from "../../datasets/exports";
import styles from "./Datasets.module.css";

/** A content hash, shortened; the full value is in the tooltip and goes to the clipboard on "Copy". */
export function ContentHash({ hash }: { hash: string }) {
  const [copied, setCopied] = useState<string>("");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(hash);
      setCopied("Copied");
    } catch {
      setCopied("Copy failed");
    }
  };
  return (
    <>
      <code className={styles.hash} title={hash} aria-label={`sha256 ${hash}`}>
        {shortHash(hash)}…
      </code>
      <button type="button" className="btn btn-quiet" onClick={() => void copy()} aria-label="Copy the full hash">
        Copy
      </button>
      <span className={styles.copied} aria-live="polite">
        {copied}
      </span>
    </>
  );
}
