import { afterEach, describe, expect, it, vi } from "vitest";
import { browserTimeZone } from "../src/lib/timeZone";

function zoneIs(timeZone: string | undefined) {
  vi.spyOn(Intl.DateTimeFormat.prototype, "resolvedOptions").mockReturnValue({
    ...new Intl.DateTimeFormat("en-US").resolvedOptions(),
    timeZone: timeZone as string,
  });
}

describe("browserTimeZone", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is the browser's IANA zone", () => {
    zoneIs("Pacific/Kiritimati");
    expect(browserTimeZone()).toBe("Pacific/Kiritimati");
  });

  it("falls back to UTC when the browser cannot tell", () => {
    zoneIs("Etc/Unknown");
    expect(browserTimeZone()).toBe("UTC");
    zoneIs(undefined);
    expect(browserTimeZone()).toBe("UTC");
  });
});
