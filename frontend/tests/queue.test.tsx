import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { beforeEach, describe, expect, it, vi } from "vitest";

// openapi-fetch takes globalThis.fetch when the client is created, so stub it before any import.
const server = vi.hoisted(() => {
  const state = { nextQueue: [] as (number | null)[], calls: [] as string[], failLabel: false };
  const fetchMock = async (input: Request | string) => {
    const request = input instanceof Request ? input : new Request(input);
    const path = new URL(request.url).pathname;
    state.calls.push(`${request.method} ${path}`);
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", date: new Date().toUTCString() } });
    const assignment = (id: number) => ({
      id,
      project_id: 1,
      state: "leased",
      leased_at: new Date().toISOString(),
      expires_at: new Date(Date.now() + 900_000).toISOString(),
      item: { id: id * 10, prompt: { id: 1, text: "q", messages: null }, candidates: [] },
      label: null,
    });
    if (path.endsWith("/next")) {
      const id = state.nextQueue.shift();
      if (id === null || id === undefined) return new Response(null, { status: 204 });
      return json(assignment(id));
    }
    const one = /^\/api\/assignments\/(\d+)$/.exec(path);
    if (one && request.method === "GET") return json(assignment(Number(one[1])));
    if (path.endsWith("/label")) {
      if (state.failLabel) return json({ detail: "Lease expired.", code: "conflict" }, 409);
      return json({ id: 1 }, 201);
    }
    return json({}, 404);
  };
  globalThis.fetch = fetchMock as typeof fetch;
  return state;
});

import { useAssignmentQueue } from "../src/annotation/useAssignmentQueue";

function wrapper({ children }: { children: ReactNode }) {
  return <QueryClientProvider client={new QueryClient()}>{children}</QueryClientProvider>;
}

const currentId = (r: { current: ReturnType<typeof useAssignmentQueue> }) =>
  r.current.state.status === "ready" ? r.current.state.current.assignment.id : r.current.state.status;

describe("useAssignmentQueue", () => {
  beforeEach(() => {
    server.calls.length = 0;
    server.failLabel = false;
  });

  it("prefetches the next item and shows it right after a submit, then prefetches again", async () => {
    server.nextQueue = [1, 2, 3, null];
    const { result } = renderHook(() => useAssignmentQueue(1), { wrapper });
    await waitFor(() => expect(currentId(result)).toBe(1));
    await waitFor(() => expect(server.calls.filter((c) => c.endsWith("/next"))).toHaveLength(2)); // prefetch of 2

    await act(() => result.current.submit({ answer: { choice: "a", strength: 1 }, flags: [] }));
    expect(currentId(result)).toBe(2);
    expect(server.calls.slice(0, 3)).toEqual(["POST /api/projects/1/next", "POST /api/projects/1/next", "POST /api/assignments/1/label"]);
    await waitFor(() => expect(server.calls.filter((c) => c.endsWith("/next"))).toHaveLength(3)); // prefetch of 3

    await act(() => result.current.submit({ answer: { choice: "b", strength: 1 }, flags: [] }));
    expect(currentId(result)).toBe(3);
    await act(() => result.current.submit({ answer: { choice: "b", strength: 1 }, flags: [] }));
    expect(currentId(result)).toBe("done");
  });

  it("ignores a prefetch that returns the item on screen (two leases already held) and asks again", async () => {
    server.nextQueue = [5, 5, 6, null];
    const { result } = renderHook(() => useAssignmentQueue(1), { wrapper });
    await waitFor(() => expect(currentId(result)).toBe(5));
    await waitFor(() => expect(server.calls).toHaveLength(2));
    await act(() => result.current.submit({ answer: { choice: "a", strength: 1 }, flags: [] }));
    expect(currentId(result)).toBe(6);
  });

  it("after a reload, finds the second open lease that the server only ever answers with the oldest", async () => {
    window.sessionStorage.setItem("prefloop:leases:1", JSON.stringify([11, 12]));
    server.nextQueue = [11, 11, null, null]; // holding two leases: /next keeps returning the oldest
    const { result } = renderHook(() => useAssignmentQueue(1), { wrapper });
    await waitFor(() => expect(currentId(result)).toBe(11));
    await waitFor(() => expect(server.calls).toContain("GET /api/assignments/12"));
    await act(() => result.current.submit({ answer: { choice: "a", strength: 1 }, flags: [] }));
    expect(currentId(result)).toBe(12);
    expect(JSON.parse(window.sessionStorage.getItem("prefloop:leases:1") ?? "[]")).toEqual([12]);
  });

  it("keeps the item on screen when the server refuses the label", async () => {
    server.nextQueue = [7, 8];
    server.failLabel = true;
    const { result } = renderHook(() => useAssignmentQueue(1), { wrapper });
    await waitFor(() => expect(currentId(result)).toBe(7));
    await act(async () => {
      await expect(result.current.submit({ answer: { choice: "a", strength: 1 }, flags: [] })).rejects.toThrow("Lease expired.");
    });
    expect(currentId(result)).toBe(7);
  });
});
