import { useEffect } from "react";

/** Name the browser tab after the page (screen readers announce it on navigation, too). */
export function useDocumentTitle(title: string | null | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · Prefloop` : "Prefloop";
  }, [title]);
}
