import { act, fireEvent, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Leased } from "../src/annotation/useAssignmentQueue";
import { useLease } from "../src/annotation/useLease";
import { ApiError } from "../src/client/errors";

const NOW = Date.parse("2026-03-01T12:00:00Z");

function leased(expiresInS: number, id = 7): Leased {
  return {
    serverOffsetMs: 0,
    assignment: {
      id,
      project_id: 1,
      state: "leased",
      leased_at: new Date(NOW - 60_000).toISOString(),
      expires_at: new Date(NOW + expiresInS * 1000).toISOString(),
      item: { id: 3, prompt: { id: 2, text: "Q", messages: null }, candidates: [] },
      label: null,
    },
  };
}

describe("useLease", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("extends on its own once per period, only after I did something with the item", async () => {
    const extend = vi.fn().mockResolvedValue(undefined);
    const announce = vi.fn();
    const { result, rerender } = renderHook(({ current }) => useLease(current, 900, extend, announce), {
      initialProps: { current: leased(30) },
    });
    expect(result.current?.low).toBe(true);
    await act(async () => {
      vi.advanceTimersByTime(2000);
    });
    expect(extend).not.toHaveBeenCalled(); // nobody at work

    fireEvent.keyDown(window, { key: "b" });
    await act(async () => {
      vi.advanceTimersByTime(1000);
    });
    expect(extend).toHaveBeenCalledTimes(1);
    expect(announce).toHaveBeenCalledWith("Still working: reserved for another 15 min.");

    // Same period (the server did not move expires_at): no second try.
    fireEvent.keyDown(window, { key: "a" });
    await act(async () => {
      vi.advanceTimersByTime(3000);
    });
    expect(extend).toHaveBeenCalledTimes(1);

    // A new period that runs low again while I keep working: one more.
    rerender({ current: leased(20) });
    fireEvent.pointerDown(window);
    await act(async () => {
      vi.advanceTimersByTime(1000);
    });
    expect(extend).toHaveBeenCalledTimes(2);
  });

  it("says the lease expired when the server refuses to extend it", async () => {
    const extend = vi.fn().mockRejectedValue(new ApiError(409, "This lease is expired; it cannot be extended."));
    const { result } = renderHook(() => useLease(leased(300), 900, extend, vi.fn()));
    expect(result.current?.expired).toBe(false);
    await act(async () => {
      result.current?.extend();
    });
    expect(result.current?.expired).toBe(true);
    expect(result.current?.problem).toBe("");
  });

  it("shows other failures and counts down to expiry", async () => {
    const extend = vi.fn().mockRejectedValue(new ApiError(0, "Could not reach the server.", "network"));
    const { result } = renderHook(() => useLease(leased(2), 900, extend, vi.fn()));
    await act(async () => {
      result.current?.extend();
    });
    expect(result.current?.problem).toBe("Could not extend: Could not reach the server.");
    await act(async () => {
      vi.advanceTimersByTime(3000);
    });
    expect(result.current?.expired).toBe(true);
  });
});
