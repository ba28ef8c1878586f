import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { api, unwrap } from "../client/api";
import { ApiError, apiErrorFrom, errorMessage, NETWORK_ERROR_MESSAGE } from "../client/errors";
import type { Assignment, LabelSubmit } from "../client/types";
import { browserTimeZone } from "../lib/timeZone";

/** An assignment plus the gap between the server's clock and ours (for the lease countdown). */
export interface Leased {
  assignment: Assignment;
  serverOffsetMs: number;
}

export type QueueState =
  | { status: "loading" }
  | { status: "ready"; current: Leased }
  | { status: "done" }
  | { status: "error"; message: string };

const STALE_MARGIN_MS = 15_000;

async function leaseNext(projectId: number): Promise<Leased | null> {
  let result;
  try {
    result = await api.POST("/api/projects/{project_id}/next", { params: { path: { project_id: projectId } } });
  } catch {
    throw new ApiError(0, NETWORK_ERROR_MESSAGE, "network");
  }
  const { response, data, error } = result;
  if (response.status === 204) return null;
  if (!response.ok || !data) throw apiErrorFrom(response.status, error);
  const serverDate = Date.parse(response.headers.get("date") ?? "");
  return { assignment: data, serverOffsetMs: Number.isNaN(serverDate) ? 0 : serverDate - Date.now() };
}

async function getAssignment(id: number): Promise<Leased | null> {
  try {
    const { response, data } = await api.GET("/api/assignments/{assignment_id}", {
      params: { path: { assignment_id: id } },
    });
    if (!response.ok || !data) return null;
    const serverDate = Date.parse(response.headers.get("date") ?? "");
    return { assignment: data, serverOffsetMs: Number.isNaN(serverDate) ? 0 : serverDate - Date.now() };
  } catch {
    return null;
  }
}

/**
 * The ids of leases this tab was given and has not finished. The server hands out at most two and, asked
 * again, returns the oldest; it never names the other one, so after a reload we remember it here.
 */
const openLeases = {
  key: (projectId: number) => `prefloop:leases:${projectId}`,
  read(projectId: number): number[] {
    try {
      return JSON.parse(window.sessionStorage.getItem(this.key(projectId)) ?? "[]") as number[];
    } catch {
      return [];
    }
  },
  write(projectId: number, ids: number[]): void {
    try {
      window.sessionStorage.setItem(this.key(projectId), JSON.stringify(ids.slice(-4)));
    } catch {
      // storage unavailable: only the reload case loses its second lease until it expires
    }
  },
  add(projectId: number, id: number): void {
    const ids = this.read(projectId);
    if (!ids.includes(id)) this.write(projectId, [...ids, id]);
  },
  remove(projectId: number, id: number): void {
    this.write(
      projectId,
      this.read(projectId).filter((x) => x !== id),
    );
  },
};

function stillLeased(leased: Leased): boolean {
  const expires = Date.parse(leased.assignment.expires_at) - leased.serverOffsetMs;
  return leased.assignment.state === "leased" && expires - Date.now() > STALE_MARGIN_MS;
}

export const progressMeKey = (projectId: number) => ["progress", "me", projectId] as const;

/** My counts in a project, "today" from the browser's midnight (the queue refreshes them after a submit). */
export function useMyProgress(projectId: number) {
  return useQuery({
    queryKey: progressMeKey(projectId),
    queryFn: () =>
      unwrap(
        api.GET("/api/projects/{project_id}/progress/me", {
          params: { path: { project_id: projectId }, query: { tz: browserTimeZone() } },
        }),
      ),
  });
}

/**
 * The annotator's queue for one project: the item on screen plus one prefetched item, so the next
 * item shows as soon as a submit is stored. The server holds at most two open leases per annotator
 * and answers a third request with the oldest one, so a prefetch equal to the current item is ignored.
 */
export function useAssignmentQueue(projectId: number) {
  const queryClient = useQueryClient();
  const [state, setState] = useState<QueueState>({ status: "loading" });
  const currentRef = useRef<Leased | null>(null);
  const prefetchRef = useRef<Promise<Leased | null> | null>(null);
  const started = useRef(false);

  const lease = useCallback(async (): Promise<Leased | null> => {
    const next = await leaseNext(projectId);
    if (next) openLeases.add(projectId, next.assignment.id);
    return next;
  }, [projectId]);

  /** Another lease of mine that the server will not name again (see openLeases), if it is still open. */
  const recoverOther = useCallback(
    async (exclude: number[]): Promise<Leased | null> => {
      for (const id of openLeases.read(projectId)) {
        if (exclude.includes(id)) continue;
        const found = await getAssignment(id);
        if (found && stillLeased(found) && !found.assignment.label) return found;
        openLeases.remove(projectId, id);
      }
      return null;
    },
    [projectId],
  );

  const show = useCallback((leased: Leased | null) => {
    currentRef.current = leased;
    setState(leased ? { status: "ready", current: leased } : { status: "done" });
  }, []);

  const startPrefetch = useCallback(() => {
    const currentId = currentRef.current?.assignment.id ?? -1;
    prefetchRef.current = lease()
      .then((next) => (next && next.assignment.id !== currentId ? next : recoverOther([currentId])))
      .catch(() => null); // a failed prefetch just means we ask again on submit
  }, [lease, recoverOther]);

  const advance = useCallback(
    async (finishedId: number) => {
      const pending = prefetchRef.current;
      prefetchRef.current = null;
      let next = pending ? await pending : null;
      if (next && (next.assignment.id === finishedId || !stillLeased(next))) next = null;
      if (!next) {
        next = await lease();
        if (next && next.assignment.id === finishedId) next = null;
      }
      if (!next) next = await recoverOther([finishedId]);
      show(next);
      if (next) startPrefetch();
    },
    [lease, recoverOther, show, startPrefetch],
  );

  const load = useCallback(async () => {
    setState({ status: "loading" });
    try {
      show(await lease());
      if (currentRef.current) startPrefetch();
    } catch (err) {
      setState({ status: "error", message: errorMessage(err) });
    }
  }, [lease, show, startPrefetch]);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void load();
  }, [load]);

  const afterFinish = useCallback(
    async (finishedId: number) => {
      openLeases.remove(projectId, finishedId);
      void queryClient.invalidateQueries({ queryKey: progressMeKey(projectId) });
      try {
        await advance(finishedId);
      } catch (err) {
        setState({ status: "error", message: errorMessage(err) });
      }
    },
    [advance, projectId, queryClient],
  );

  /** Store the label for the item on screen; throws (and changes nothing) when the server refuses. */
  const submit = useCallback(
    async (body: LabelSubmit) => {
      const current = currentRef.current;
      if (!current) return;
      const id = current.assignment.id;
      await unwrap(api.POST("/api/assignments/{assignment_id}/label", { params: { path: { assignment_id: id } }, body }));
      await afterFinish(id);
    },
    [afterFinish],
  );

  /** Pass on the item on screen. */
  const skip = useCallback(
    async (reason: string | null) => {
      const current = currentRef.current;
      if (!current) return;
      const id = current.assignment.id;
      await unwrap(
        api.POST("/api/assignments/{assignment_id}/skip", { params: { path: { assignment_id: id } }, body: { reason } }),
      );
      await afterFinish(id);
    },
    [afterFinish],
  );

  /**
   * Keep the item on screen reserved for another lease period; the new expiry replaces the old one in
   * place (same assignment, so the form and its input stay). Throws the server's refusal (409: expired).
   */
  const extend = useCallback(async () => {
    const current = currentRef.current;
    if (!current) return;
    const id = current.assignment.id;
    const extended = await unwrap(
      api.POST("/api/assignments/{assignment_id}/extend", { params: { path: { assignment_id: id } } }),
    );
    if (currentRef.current?.assignment.id !== id) return; // moved on meanwhile
    // Same clock offset as before: a fresh one from the Date header (whole seconds) would make the clock jitter.
    show({ assignment: extended, serverOffsetMs: current.serverOffsetMs });
  }, [show]);

  /** Leave the item on screen without telling the server (e.g. its lease is gone). */
  const discard = useCallback(async () => {
    const current = currentRef.current;
    if (current) await afterFinish(current.assignment.id);
  }, [afterFinish]);

  return { state, submit, skip, extend, discard, reload: load };
}
