import { memo } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import rehypeHighlight, { type Options as HighlightOptions } from "rehype-highlight";
import remarkGfm from "remark-gfm";
import styles from "./Markdown.module.css";

const components: Components = {
  a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer" />,
};

const remarkPlugins = [remarkGfm];
// Guess the language of unlabelled code blocks, among the common ones only (fast).
const highlightOptions: HighlightOptions = {
  detect: true,
  subset: ["python", "javascript", "typescript", "bash", "json", "sql", "java", "cpp", "go", "rust", "yaml"],
};
const rehypePlugins: NonNullable<Parameters<typeof ReactMarkdown>[0]["rehypePlugins"]> = [
  [rehypeHighlight, highlightOptions],
];

interface MarkdownProps {
  children: string;
  className?: string;
}

/** Markdown (GitHub flavour) with highlighted code blocks; raw HTML is not rendered. */
export const Markdown = memo(function Markdown({ children, className }: MarkdownProps) {
  return (
    <div className={`${styles.md} ${className ?? ""}`}>
      <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components}>
        {children}
      </ReactMarkdown>
    </div>
  );
});
