import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttendanceReportDto, AttendanceRowDto, RegistrationDto } from '../../contracts/classrooms.ts';
import { manualClock } from '../../domain/shared/time.ts';
import { classroomCommunity, insertAttendance, minutesFrom, scheduleClassroom } from '../../test/classroomFactories.ts';
import { call, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

const T0 = new Date('2031-03-04T09:00:00.000Z');
const clock = manualClock(new Date(T0.getTime() - 10 * 60_000));
let node: RunningNode;
beforeAll(async () => {
  // The defaults, spelled out: what the numbers below depend on.
  node = await startNode({ clock, env: { CLASSROOM_ATTENDANCE_THRESHOLD_PERCENT: '50', CLASSROOM_RECONNECT_GRACE_SECONDS: '30' } });
});
afterAll(async () => node?.close());

/** `minutes` (and `seconds`) after the class started. */
const at = (minutes: number, seconds = 0) => new Date(T0.getTime() + minutes * 60_000 + seconds * 1000);
const iso = (minutes: number, seconds = 0) => at(minutes, seconds).toISOString();

describe('the attendance report', () => {
  let host: TestUser;
  let cohost: TestUser;
  let blip: TestUser;
  let away: TestUser;
  let never: TestUser;
  let late: TestUser;
  let classroomId: string;
  let title: string;

  beforeAll(async () => {
    const world = await classroomCommunity(node, 5, { visibility: 'private' });
    host = world.host;
    [cohost, blip, away, never, late] = world.learners as [TestUser, TestUser, TestUser, TestUser, TestUser];
    const classroom = await scheduleClassroom(node, host, world.communityId, { startsAt: T0.toISOString(), durationMinutes: 90, title: 'Statistics 101' });
    classroomId = classroom.id;
    title = classroom.title;
    await ok(call(node, 'POST', `/classrooms/${classroomId}/cohosts`, host, { userId: cohost.user.id }));
    for (const user of [blip, away, never, late]) await ok(call(node, 'POST', `/classrooms/${classroomId}/register`, user), 201);
    clock.set(T0);
    await ok(call(node, 'POST', `/classrooms/${classroomId}/start`, host));

    // As the room records presence: the host came in early and stayed; `blip` dropped for 20 s (inside the 30 s grace);
    // `away` was gone a full minute (beyond it); `late` came 10 minutes in and is still there.
    await insertAttendance(node, classroomId, host.user.id, at(-5), null);
    await insertAttendance(node, classroomId, blip.user.id, at(0), at(20));
    await insertAttendance(node, classroomId, blip.user.id, at(20, 20), at(40));
    await insertAttendance(node, classroomId, away.user.id, at(0), at(20));
    await insertAttendance(node, classroomId, away.user.id, at(21), at(30));
    await insertAttendance(node, classroomId, late.user.id, at(10), null);
  });

  const report = async (as: TestUser = host) => ok<AttendanceReportDto>(call(node, 'GET', `/classrooms/${classroomId}/attendance`, as));
  const row = (r: AttendanceReportDto, user: TestUser) => r.rows.find((x) => x.user.id === user.user.id)!;
  const figures = (r: AttendanceRowDto) => [r.role, r.minutesAttended, r.percent, r.attended];

  it('while live: minutes so far, as a share of the scheduled length', async () => {
    clock.set(at(30));
    const live = await report();
    expect(live).toMatchObject({ classroomId, title, status: 'live', startedAt: iso(0), endedAt: null, classMinutes: 90, thresholdPercent: 50 });
    expect(figures(row(live, host))).toEqual(['host', 30, 33.3, false]);
    expect(figures(row(live, blip))).toEqual(['learner', 30, 33.3, false]);
    expect(figures(row(live, late))).toEqual(['learner', 20, 22.2, false]);
  });

  it('is for the host and community admins only', async () => {
    const [outsider] = await registerUsers(node.url, 1);
    expect((await call(node, 'GET', `/classrooms/${classroomId}/attendance`, blip)).status).toBe(403);
    expect((await call(node, 'GET', `/classrooms/${classroomId}/attendance`, cohost)).status).toBe(403);
    expect((await call(node, 'GET', `/classrooms/${classroomId}/attendance`, outsider)).status).toBe(404);
  });

  it('after the end: everyone registered, present or not, with the threshold applied to the class as it ran', async () => {
    clock.set(at(60));
    await ok(call(node, 'POST', `/classrooms/${classroomId}/end`, host));
    const ended = await report();
    expect(ended).toMatchObject({ status: 'ended', startedAt: iso(0), endedAt: iso(60), classMinutes: 60, thresholdPercent: 50 });
    const learners = [blip, away, never, late].sort((x, y) => x.user.displayName.toLowerCase().localeCompare(y.user.displayName.toLowerCase()));
    expect(ended.rows.map((r) => r.user.id)).toEqual([host, cohost, ...learners].map((u) => u.user.id));
    expect(row(ended, host)).toEqual({
      user: { id: host.user.id, displayName: host.user.displayName },
      role: 'host',
      minutesAttended: 60,
      percent: 100,
      attended: true,
      // Closed by the end of the class.
      intervals: [{ joinedAt: iso(-5), leftAt: iso(60) }],
    });
    expect(figures(row(ended, cohost))).toEqual(['cohost', 0, 0, false]);
    // 20 min + a 20 s blip + 19 min 40 s: one continuous 40 minutes.
    expect(figures(row(ended, blip))).toEqual(['learner', 40, 66.6, true]);
    // 20 min, a minute away, 9 min: 29 of 60 minutes, just under half. Had the minute been a blip, it would be half.
    expect(figures(row(ended, away))).toEqual(['learner', 29, 48.3, false]);
    expect(row(ended, away).intervals).toHaveLength(2);
    expect(row(ended, never)).toMatchObject({ minutesAttended: 0, percent: 0, attended: false, intervals: [] });
    expect(figures(row(ended, late))).toEqual(['learner', 50, 83.3, true]);
  });

  it('marks the registrations at the end: attended when present for at least half the class', async () => {
    const { data } = await ok<{ data: RegistrationDto[] }>(call(node, 'GET', `/classrooms/${classroomId}/registrations`, host));
    const attended = Object.fromEntries(data.map((r) => [r.user.id, r.attended]));
    expect(attended).toEqual({ [blip.user.id]: true, [away.user.id]: false, [never.user.id]: false, [late.user.id]: true });
  });

  it('downloads as CSV: a header and one row per person', async () => {
    const res = await call(node, 'GET', `/classrooms/${classroomId}/attendance?format=csv`, host);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="attendance-statistics-101-${classroomId.slice(0, 8)}.csv"`);
    const lines = (res.body as string).trimEnd().split('\r\n');
    expect(lines[0]).toBe('name,role,minutes,percent,attended,first_join,last_leave');
    expect(lines).toHaveLength(7);
    expect(lines).toContain(`${host.user.displayName},host,60,100,yes,${iso(-5)},${iso(60)}`);
    expect(lines).toContain(`${cohost.user.displayName},cohost,0,0,no,,`);
    expect(lines).toContain(`${blip.user.displayName},learner,40,66.6,yes,${iso(0)},${iso(40)}`);
    expect(lines).toContain(`${away.user.displayName},learner,29,48.3,no,${iso(0)},${iso(30)}`);
    expect(lines).toContain(`${never.user.displayName},learner,0,0,no,,`);
    expect(lines).toContain(`${late.user.displayName},learner,50,83.3,yes,${iso(10)},${iso(60)}`);
    expect((await call(node, 'GET', `/classrooms/${classroomId}/attendance?format=xml`, host)).status).toBe(400);
  });
});

describe('before the class starts', () => {
  it('lists everyone with zero minutes against the scheduled length', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 1);
    const classroom = await scheduleClassroom(node, host, communityId, { startsAt: minutesFrom(30, clock.now()), durationMinutes: 45 });
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, learners[0]!), 201);
    const report = await ok<AttendanceReportDto>(call(node, 'GET', `/classrooms/${classroom.id}/attendance`, host));
    expect(report).toMatchObject({ status: 'scheduled', startedAt: null, classMinutes: 45 });
    expect(report.rows.map((r) => [r.role, r.minutesAttended, r.attended])).toEqual([
      ['host', 0, false],
      ['learner', 0, false],
    ]);
  });
});
