import type { ReactNode } from "react";
import { Markdown } from "../Markdown/Markdown";
import styles from "./Annotation.module.css";

interface ResponseCardProps {
  title: string;
  text: string;
  candidateId: number;
  highlighted?: boolean;
  badge?: ReactNode;
}

/** One model response, rendered as Markdown under a short title ("Response A"). */
export function ResponseCard({ title, text, candidateId, highlighted = false, badge }: ResponseCardProps) {
  const headingId = `response-${candidateId}-title`;
  return (
    <article
      className={`${styles.response} ${highlighted ? styles.responseChosen : ""}`}
      aria-labelledby={headingId}
      data-candidate-id={candidateId}
    >
      <header className={styles.responseHeader}>
        <h3 id={headingId} className={styles.responseTitle}>
          {title}
        </h3>
        {badge}
      </header>
      <Markdown>{text}</Markdown>
    </article>
  );
}
