import type { PromptView } from "../../client/types";
import { Markdown } from "../Markdown/Markdown";
import styles from "./Annotation.module.css";

interface Turn {
  role: string;
  content: string;
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    // OpenAI-style content parts: keep the text parts.
    return content
      .map((part) => (typeof part === "string" ? part : (part as { text?: unknown })?.text))
      .filter((t): t is string => typeof t === "string")
      .join("\n\n");
  }
  return content == null ? "" : JSON.stringify(content, null, 2);
}

export function toTurns(messages: PromptView["messages"]): Turn[] {
  return (messages ?? []).map((m) => ({
    role: typeof m.role === "string" ? m.role : "user",
    content: contentText(m.content),
  }));
}

const ROLE_NAMES: Record<string, string> = { system: "System", user: "User", assistant: "Assistant", tool: "Tool" };

/** The prompt: plain Markdown text, or a chat shown turn by turn. */
export function PromptPanel({ prompt }: { prompt: PromptView }) {
  const turns = prompt.messages?.length ? toTurns(prompt.messages) : null;
  return (
    <section className={styles.prompt} aria-labelledby="prompt-heading">
      <h2 id="prompt-heading" className={styles.sectionTitle}>
        Prompt
      </h2>
      {turns ? (
        <ol className={styles.turns} aria-label="Conversation">
          {turns.map((turn, i) => (
            <li key={i} className={`${styles.turn} ${styles[`turn_${turn.role}`] ?? ""}`}>
              <span className={styles.role}>{ROLE_NAMES[turn.role] ?? turn.role}</span>
              <Markdown>{turn.content}</Markdown>
            </li>
          ))}
        </ol>
      ) : (
        <Markdown>{prompt.text ?? ""}</Markdown>
      )}
    </section>
  );
}
