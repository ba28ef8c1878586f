import type { Draft } from "./draft";

// A draft survives a reload or a trip to the login page (expired session) in this tab only.
const key = (assignmentId: number) => `prefloop:draft:${assignmentId}`;

export function loadDraft(assignmentId: number): Draft | null {
  try {
    const raw = window.sessionStorage.getItem(key(assignmentId));
    return raw ? (JSON.parse(raw) as Draft) : null;
  } catch {
    return null;
  }
}

export function saveDraft(assignmentId: number, draft: Draft): void {
  try {
    window.sessionStorage.setItem(key(assignmentId), JSON.stringify(draft));
  } catch {
    // Storage full or disabled: the draft still lives in memory.
  }
}

export function forgetDraft(assignmentId: number): void {
  try {
    window.sessionStorage.removeItem(key(assignmentId));
  } catch {
    // nothing to do
  }
}
