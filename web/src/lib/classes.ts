import type { ClassroomDto, ClassroomStatus, RoomRole } from '$contracts/classrooms.ts';

/**
 * `<input type="datetime-local">` gives wall-clock time without a zone, and the form is handled on the server, whose
 * zone is not the browser's. The browser sends its offset (Date#getTimezoneOffset: minutes to add to local time to
 * get UTC) beside the value; without it (no script) the time is read as UTC.
 */
export function startsAtFromLocal(local: string, offsetMinutes: number): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local.trim());
  if (!match || !Number.isFinite(offsetMinutes) || Math.abs(offsetMinutes) > 16 * 60) return null;
  const [y, mo, d, h, mi, s] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const wall = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls 31 February over into March; a real date reads back the same.
  if (wall.getUTCFullYear() !== y || wall.getUTCMonth() !== mo - 1 || wall.getUTCDate() !== d || wall.getUTCHours() !== h) return null;
  return new Date(wall.getTime() + offsetMinutes * 60_000).toISOString();
}

/** The value for a datetime-local input showing `date` in the browser's zone. */
export function toLocalInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export const STATUS_LABELS: Record<ClassroomStatus, string> = {
  scheduled: 'Scheduled',
  live: 'Live now',
  ended: 'Ended',
  cancelled: 'Cancelled',
};

export const ROLE_LABELS: Record<RoomRole, string> = {
  host: 'Host',
  cohost: 'Co-host',
  speaker: 'Speaker',
  learner: 'Learner',
};

/** "12 of 30 seats taken · 3 on the waitlist". */
export function seatsText(classroom: Pick<ClassroomDto, 'capacity' | 'registeredCount' | 'waitlistCount'>): string {
  const seats = `${classroom.registeredCount} of ${classroom.capacity} ${classroom.capacity === 1 ? 'seat' : 'seats'} taken`;
  return classroom.waitlistCount > 0 ? `${seats} · ${classroom.waitlistCount} on the waitlist` : seats;
}

export function isFull(classroom: Pick<ClassroomDto, 'capacity' | 'registeredCount'>): boolean {
  return classroom.registeredCount >= classroom.capacity;
}

/** The caller's own standing, in words. */
export function myStandingText(
  classroom: Pick<ClassroomDto, 'myRole' | 'myRegistration' | 'myWaitlistPosition'>,
): string | null {
  if (classroom.myRole === 'host') return 'You are the host';
  if (classroom.myRole === 'cohost') return 'You are a co-host';
  if (classroom.myRegistration === 'registered') return 'Registered';
  if (classroom.myRegistration === 'waitlisted') {
    return classroom.myWaitlistPosition ? `Waitlisted — position ${classroom.myWaitlistPosition}` : 'Waitlisted';
  }
  return null;
}

/** Only a future or running class takes registrations. */
export function canRegister(classroom: Pick<ClassroomDto, 'status' | 'myRole' | 'myRegistration'>): boolean {
  return (classroom.status === 'scheduled' || classroom.status === 'live') && classroom.myRole === null && classroom.myRegistration === null;
}

export function canCancelRegistration(classroom: Pick<ClassroomDto, 'status' | 'myRegistration'>): boolean {
  return (classroom.status === 'scheduled' || classroom.status === 'live') && classroom.myRegistration !== null;
}

/** The live room is for the host, co-hosts and registered learners (waitlisted ones wait for a seat). */
export function canEnterLive(classroom: Pick<ClassroomDto, 'status' | 'myRole' | 'myRegistration'>): boolean {
  if (classroom.status !== 'live') return false;
  return classroom.myRole === 'host' || classroom.myRole === 'cohost' || classroom.myRegistration === 'registered';
}

const dateTime = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** "Tue 1 Dec, 18:00–19:30". */
export function classTimeText(classroom: Pick<ClassroomDto, 'startsAt' | 'durationMinutes'>): string {
  const start = new Date(classroom.startsAt);
  if (Number.isNaN(start.getTime())) return classroom.startsAt;
  const end = new Date(start.getTime() + classroom.durationMinutes * 60_000);
  return `${dateTime.format(start)}–${timeOnly.format(end)}`;
}

export function durationText(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}
