import { errorMessage } from "../../client/errors";

/** A plain, visible error message (announced to screen readers). */
export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  return (
    <div className="error-box" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {errorMessage(error)}
    </div>
  );
}
