/**
 * The browser's IANA time zone, sent as `tz` so "labels today" start at the user's own midnight.
 * Chrome answers "Etc/Unknown" when the system's zone cannot be read; the server would reject that (422),
 * so UTC stands in for it.
 */
export function browserTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && zone !== "Etc/Unknown" ? zone : "UTC";
}
