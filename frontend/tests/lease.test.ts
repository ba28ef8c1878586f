import { describe, expect, it } from "vitest";
import { autoExtendBelow, secondsLeft, shouldAutoExtend, type AutoExtendInput } from "../src/annotation/lease";

const NOW = Date.parse("2026-03-01T12:00:00Z");

/** 30 s left on a 15-minute lease, the annotator typed 10 s ago, nothing extended yet. */
function input(patch: Partial<AutoExtendInput> = {}): AutoExtendInput {
  return { secondsLeft: 30, lastInteractionMs: NOW - 10_000, nowMs: NOW, extendedThisPeriod: false, leaseSeconds: 900, ...patch };
}

describe("secondsLeft", () => {
  it("counts by the server's clock", () => {
    const leased = "2026-03-01T11:50:00Z";
    const expires = "2026-03-01T12:05:00Z";
    expect(secondsLeft(leased, expires, 0, NOW)).toBe(300);
    expect(secondsLeft(leased, expires, 2_000, NOW)).toBe(298); // the server is 2 s ahead
    expect(secondsLeft(leased, expires, 0, NOW + 301_000)).toBe(-1);
  });

  it("never shows more than the lease itself (the Date header has whole seconds)", () => {
    expect(secondsLeft("2026-03-01T12:00:00Z", "2026-03-01T12:15:00Z", -800, NOW)).toBe(900);
  });
});

describe("shouldAutoExtend", () => {
  it("extends with under a minute left when I worked on the item in the last minute", () => {
    expect(shouldAutoExtend(input())).toBe(true);
    expect(shouldAutoExtend(input({ secondsLeft: 59.5, lastInteractionMs: NOW - 60_000 }))).toBe(true);
    expect(shouldAutoExtend(input({ secondsLeft: 0.5, lastInteractionMs: NOW }))).toBe(true);
  });

  it("waits while a minute or more is left", () => {
    expect(shouldAutoExtend(input({ secondsLeft: 60 }))).toBe(false);
    expect(shouldAutoExtend(input({ secondsLeft: 600 }))).toBe(false);
  });

  it("does not extend for an annotator who is away", () => {
    expect(shouldAutoExtend(input({ lastInteractionMs: null }))).toBe(false);
    expect(shouldAutoExtend(input({ lastInteractionMs: NOW - 60_001 }))).toBe(false);
    expect(shouldAutoExtend(input({ lastInteractionMs: NOW - 5 * 60_000 }))).toBe(false);
  });

  it("extends once per lease period", () => {
    expect(shouldAutoExtend(input({ extendedThisPeriod: true }))).toBe(false);
  });

  it("cannot save a lease that already expired", () => {
    expect(shouldAutoExtend(input({ secondsLeft: 0 }))).toBe(false);
    expect(shouldAutoExtend(input({ secondsLeft: -3 }))).toBe(false);
  });

  it("uses half the lease as the threshold on leases under two minutes", () => {
    expect(autoExtendBelow(900)).toBe(60);
    expect(autoExtendBelow(120)).toBe(60);
    expect(autoExtendBelow(60)).toBe(30);
    expect(autoExtendBelow(30)).toBe(15);
    // A fresh 30 s lease is not "almost over" at once (else it would be extended again and again).
    expect(shouldAutoExtend(input({ leaseSeconds: 30, secondsLeft: 29 }))).toBe(false);
    expect(shouldAutoExtend(input({ leaseSeconds: 30, secondsLeft: 14 }))).toBe(true);
  });

  it("ignores an interaction stamped in the future (a clock change)", () => {
    expect(shouldAutoExtend(input({ lastInteractionMs: NOW + 5_000 }))).toBe(false);
  });
});
