/*
 * Times on the dashboard. The server renders them in UTC, marked as such; once in the browser they are shown again in
 * the viewer's own time zone (LocalTime.svelte), so nobody reads a class time in the wrong zone.
 */

const MINUTE = 60_000;

/** "Tue 8 Dec, 18:00–19:30 CET" in `timeZone` (the browser's when undefined). */
export function classWhen(startsAt: string, durationMinutes: number, timeZone?: string): string {
  const start = new Date(startsAt);
  if (Number.isNaN(start.getTime())) return startsAt;
  const end = new Date(start.getTime() + durationMinutes * MINUTE);
  const day = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone });
  const until = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZoneName: 'short', timeZone });
  return `${day.format(start)}–${until.format(end)}`;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", then the date. */
export function timeAgo(at: string, now: Date, timeZone?: string): string {
  const then = new Date(at);
  if (Number.isNaN(then.getTime())) return at;
  const minutes = Math.floor((now.getTime() - then.getTime()) / MINUTE);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days < 7) return days === 1 ? 'yesterday' : `${days} days ago`;
  return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone }).format(then);
}
