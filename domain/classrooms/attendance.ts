import type { AttendanceReportDto, AttendanceRowDto } from '../../contracts/classrooms.ts';
import type { Actor, ClassroomSettings, Deps } from '../shared/deps.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { authorizeClassroom, type Classroom } from './access.ts';

/** One stretch of presence in the room; `leftAt` null while still there. */
export interface AttendanceInterval {
  joinedAt: Date;
  leftAt: Date | null;
}

export interface TimeWindow {
  start: Date;
  end: Date;
}

/**
 * Milliseconds present within `window`. Stretches separated by a gap of at most `graceMs` are one stretch (a network
 * blip is not a leave, so the gap counts as attended); open stretches run to the end of the window. Gaps are bridged
 * before clipping, so a blip across the start or end of the class is bridged too.
 */
export function attendedMs(intervals: readonly AttendanceInterval[], window: TimeWindow, graceMs: number): number {
  const start = window.start.getTime();
  const end = window.end.getTime();
  if (end <= start) return 0;
  const spans = intervals
    .map((i) => ({ from: i.joinedAt.getTime(), to: i.leftAt === null ? Math.max(end, i.joinedAt.getTime()) : i.leftAt.getTime() }))
    .filter((s) => s.to >= s.from)
    .sort((a, b) => a.from - b.from);
  const merged: { from: number; to: number }[] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last && span.from - last.to <= graceMs) last.to = Math.max(last.to, span.to);
    else merged.push({ ...span });
  }
  let total = 0;
  for (const span of merged) total += Math.max(0, Math.min(span.to, end) - Math.max(span.from, start));
  return total;
}

/** The part of the class that counts: from its actual start to its end, or to `now` while live. Null before it starts. */
export function classWindow(classroom: Pick<Classroom, 'startedAt' | 'endedAt'>, now: Date): TimeWindow | null {
  if (!classroom.startedAt) return null;
  const end = classroom.endedAt ?? new Date(Math.max(now.getTime(), classroom.startedAt.getTime()));
  return { start: classroom.startedAt, end };
}

/** The length percentages are taken of: the actual class once ended, else the scheduled duration. */
export function classLengthMs(classroom: Pick<Classroom, 'startedAt' | 'endedAt' | 'durationMinutes'>): number {
  if (classroom.startedAt && classroom.endedAt) return classroom.endedAt.getTime() - classroom.startedAt.getTime();
  return classroom.durationMinutes * 60_000;
}

export interface AttendanceFigures {
  minutes: number;
  percent: number;
  attended: boolean;
}

/**
 * Minutes (2 decimals), percent of the class (1 decimal, rounded down so it never shows the threshold unless reached;
 * at most 100) and whether it reaches the threshold.
 */
export function attendanceFigures(ms: number, classMs: number, thresholdPercent: number): AttendanceFigures {
  const share = classMs > 0 ? ms / classMs : 0;
  return {
    minutes: Math.round(ms / 600) / 100,
    percent: Math.min(100, Math.floor(share * 1000 + 1e-9) / 10),
    attended: classMs > 0 && ms * 100 >= thresholdPercent * classMs,
  };
}

/** Every attendance interval of the class, by user, in order. */
export async function loadIntervals(sql: Sql, classroomId: string): Promise<Map<string, AttendanceInterval[]>> {
  const rows = await sql<{ user_id: string; joined_at: Date | string; left_at: Date | string | null }>(
    'select user_id, joined_at, left_at from classroom_attendance where classroom_id = ? order by user_id, joined_at, id',
    [classroomId],
  );
  const byUser = new Map<string, AttendanceInterval[]>();
  for (const r of rows) {
    const list = byUser.get(r.user_id) ?? [];
    list.push({ joinedAt: new Date(r.joined_at), leftAt: r.left_at === null ? null : new Date(r.left_at) });
    byUser.set(r.user_id, list);
  }
  return byUser;
}

/**
 * At the end of the class (its row locked, `endedAt` set, intervals closed): each registered learner's minutes and
 * whether they attended for at least the threshold share of the class as it actually ran.
 */
export async function markAttendance(sql: Sql, classroom: Classroom, settings: ClassroomSettings): Promise<void> {
  if (!classroom.startedAt || !classroom.endedAt) return;
  const window = { start: classroom.startedAt, end: classroom.endedAt };
  const classMs = classLengthMs(classroom);
  const intervals = await loadIntervals(sql, classroom.id);
  const learners = await sql<{ user_id: string }>(
    `select user_id from classroom_registrations where classroom_id = ? and status = 'registered'`,
    [classroom.id],
  );
  if (!learners.length) return;
  const figures = learners.map((l) =>
    attendanceFigures(attendedMs(intervals.get(l.user_id) ?? [], window, settings.reconnectGraceMs), classMs, settings.attendanceThresholdPercent),
  );
  await sql(
    `update classroom_registrations r set attended = v.attended, minutes_attended = v.minutes
     from unnest(?::uuid[], ?::boolean[], ?::numeric[]) as v(user_id, attended, minutes)
     where r.classroom_id = ? and r.user_id = v.user_id`,
    [learners.map((l) => l.user_id), figures.map((f) => f.attended), figures.map((f) => f.minutes), classroom.id],
  );
}

interface PersonRow {
  user_id: string;
  display_name: string;
  role: 'host' | 'cohost' | 'learner';
}

/**
 * The host's attendance report: the host, co-hosts, every registered learner (zero minutes if never present) and
 * anyone else who was in the room (e.g. a learner who cancelled during the class).
 */
export async function attendanceReport(deps: Deps, actor: Actor, classroomId: string): Promise<AttendanceReportDto> {
  const sql = sqlOf(deps.orm.em.fork());
  const { classroom } = await authorizeClassroom(sql, actor, classroomId, 'manage');
  const settings = deps.classrooms;
  const window = classWindow(classroom, deps.clock.now());
  const classMs = classLengthMs(classroom);
  const intervals = await loadIntervals(sql, classroomId);
  const people = await sql<PersonRow>(
    `with people as (
       select k.host_id as user_id, 'host' as role, 0 as rank from classrooms k where k.id = ?
       union all select h.user_id, 'cohost', 1 from classroom_cohosts h where h.classroom_id = ?
       union all select r.user_id, 'learner', 2 from classroom_registrations r where r.classroom_id = ? and r.status = 'registered'
       union all select distinct a.user_id, 'learner', 2 from classroom_attendance a where a.classroom_id = ?
     ), ranked as (select distinct on (user_id) user_id, role, rank from people order by user_id, rank)
     select x.user_id, u.display_name, x.role from ranked x join users u on u.id = x.user_id
     order by x.rank, lower(u.display_name), x.user_id`,
    [classroomId, classroomId, classroomId, classroomId],
  );
  const rows: AttendanceRowDto[] = people.map((p) => {
    const mine = intervals.get(p.user_id) ?? [];
    const ms = window ? attendedMs(mine, window, settings.reconnectGraceMs) : 0;
    const figures = attendanceFigures(ms, classMs, settings.attendanceThresholdPercent);
    return {
      user: { id: p.user_id, displayName: p.display_name },
      role: p.role,
      minutesAttended: figures.minutes,
      percent: figures.percent,
      attended: figures.attended,
      intervals: mine.map((i) => ({ joinedAt: i.joinedAt.toISOString(), leftAt: i.leftAt?.toISOString() ?? null })),
    };
  });
  return {
    classroomId,
    title: classroom.title,
    status: classroom.status,
    startedAt: classroom.startedAt?.toISOString() ?? null,
    endedAt: classroom.endedAt?.toISOString() ?? null,
    classMinutes: Math.round(classMs / 600) / 100,
    thresholdPercent: settings.attendanceThresholdPercent,
    rows,
  };
}

/** A spreadsheet cell: quoted when needed, and never read as a formula. */
function csvCell(value: string | number): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row per person, with a header row; times in ISO 8601 (UTC). */
export function attendanceCsv(report: AttendanceReportDto): string {
  const lines = [['name', 'role', 'minutes', 'percent', 'attended', 'first_join', 'last_leave']];
  for (const row of report.rows) {
    const first = row.intervals[0]?.joinedAt ?? '';
    const open = row.intervals.some((i) => i.leftAt === null);
    const last = open ? '' : row.intervals.map((i) => i.leftAt!).sort().at(-1) ?? '';
    lines.push([row.user.displayName, row.role, String(row.minutesAttended), String(row.percent), row.attended ? 'yes' : 'no', first, last]);
  }
  return lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
