/** The browser's IANA time zone, sent as `tz` so "labels today" start at the user's own midnight. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
