import type { AttendanceReportDto, AttendanceRowDto } from '../../contracts/classrooms.ts';
import { sql } from 'kysely';
import { db, type Db } from '../../orm/db.ts';
import { authorizeClassroom, type Classroom } from '../access/classroom.ts';
import type { Actor, ClassroomSettings, Deps } from '../shared/deps.ts';

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
export function classWindow(classroom: Pick<Classroom, 'started_at' | 'ended_at'>, now: Date): TimeWindow | null {
  if (!classroom.started_at) return null;
  const end = classroom.ended_at ?? new Date(Math.max(now.getTime(), classroom.started_at.getTime()));
  return { start: classroom.started_at, end };
}

/** The length percentages are taken of: the actual class once ended, else the scheduled duration. */
export function classLengthMs(classroom: Pick<Classroom, 'started_at' | 'ended_at' | 'duration_minutes'>): number {
  if (classroom.started_at && classroom.ended_at) return classroom.ended_at.getTime() - classroom.started_at.getTime();
  return classroom.duration_minutes * 60_000;
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
export async function loadIntervals(q: Db, classroomId: string): Promise<Map<string, AttendanceInterval[]>> {
  const rows = await q
    .selectFrom('classroom_attendance')
    .select(['user_id', 'joined_at', 'left_at'])
    .where('classroom_id', '=', classroomId)
    .orderBy('user_id')
    .orderBy('joined_at')
    .orderBy('id')
    .execute();
  const byUser = new Map<string, AttendanceInterval[]>();
  for (const r of rows) {
    const list = byUser.get(r.user_id) ?? [];
    list.push({ joinedAt: r.joined_at, leftAt: r.left_at });
    byUser.set(r.user_id, list);
  }
  return byUser;
}

/**
 * At the end of the class (its row locked, `ended_at` set, intervals closed): each registered learner's minutes and
 * whether they attended for at least the threshold share of the class as it actually ran.
 */
export async function markAttendance(q: Db, classroom: Classroom, settings: ClassroomSettings): Promise<void> {
  if (!classroom.started_at || !classroom.ended_at) return;
  const window = { start: classroom.started_at, end: classroom.ended_at };
  const classMs = classLengthMs(classroom);
  const intervals = await loadIntervals(q, classroom.id);
  const learners = await q
    .selectFrom('classroom_registrations')
    .select('user_id')
    .where('classroom_id', '=', classroom.id)
    .where('status', '=', 'registered')
    .execute();
  if (!learners.length) return;
  const figures = learners.map((l) =>
    attendanceFigures(attendedMs(intervals.get(l.user_id) ?? [], window, settings.reconnectGraceMs), classMs, settings.attendanceThresholdPercent),
  );
  // One statement for the whole class: a row of figures per learner.
  const userIds = learners.map((l) => l.user_id);
  const attended = figures.map((f) => f.attended);
  const minutes = figures.map((f) => f.minutes);
  const marks = sql<{ user_id: string; attended: boolean; minutes: string }>`unnest(${userIds}::uuid[], ${attended}::boolean[], ${minutes}::numeric[])`;
  await q
    .updateTable('classroom_registrations as r')
    .from(marks.as<'v'>(sql`v(user_id, attended, minutes)`))
    .set((eb) => ({ attended: eb.ref('v.attended'), minutes_attended: eb.ref('v.minutes') }))
    .where('r.classroom_id', '=', classroom.id)
    .whereRef('r.user_id', '=', 'v.user_id')
    .execute();
}

/** The rank of a role in the report: each person is listed once, in their highest role. */
const role = (name: AttendanceRowDto['role'], rank: number) => [sql.lit(name).$castTo<AttendanceRowDto['role']>().as('role'), sql.lit(rank).as('rank')] as const;

/**
 * The host's attendance report: the host, co-hosts, every registered learner (zero minutes if never present) and
 * anyone else who was in the room (e.g. a learner who cancelled during the class).
 */
export async function attendanceReport(deps: Deps, actor: Actor, classroomId: string): Promise<AttendanceReportDto> {
  const q = db(deps.orm.em.fork());
  const { classroom } = await authorizeClassroom(q, actor, classroomId, 'manage');
  const settings = deps.classrooms;
  const window = classWindow(classroom, deps.clock.now());
  const classMs = classLengthMs(classroom);
  const intervals = await loadIntervals(q, classroomId);
  const people = await q
    .with('people', (w) =>
      w
        .selectFrom('classrooms as k')
        .select(['k.host_id as user_id', ...role('host', 0)])
        .where('k.id', '=', classroomId)
        .unionAll(w.selectFrom('classroom_cohosts as h').select(['h.user_id', ...role('cohost', 1)]).where('h.classroom_id', '=', classroomId))
        .unionAll(
          w
            .selectFrom('classroom_registrations as r')
            .select(['r.user_id', ...role('learner', 2)])
            .where('r.classroom_id', '=', classroomId)
            .where('r.status', '=', 'registered'),
        )
        .unionAll(w.selectFrom('classroom_attendance as a').select(['a.user_id', ...role('learner', 2)]).distinct().where('a.classroom_id', '=', classroomId)),
    )
    .with('ranked', (w) => w.selectFrom('people').select(['user_id', 'role', 'rank']).distinctOn('user_id').orderBy('user_id').orderBy('rank'))
    .selectFrom('ranked as x')
    .innerJoin('users as u', 'u.id', 'x.user_id')
    .select(['x.user_id', 'u.display_name', 'x.role'])
    .orderBy('x.rank')
    .orderBy((ob) => ob.fn('lower', ['u.display_name']))
    .orderBy('x.user_id')
    .execute();
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
    startedAt: classroom.started_at?.toISOString() ?? null,
    endedAt: classroom.ended_at?.toISOString() ?? null,
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
