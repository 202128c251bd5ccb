import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassroomDto, RegistrationDto } from '../../contracts/classrooms.ts';
import { manualClock } from '../../domain/shared/time.ts';
import { classroomCommunity, insertAttendance, minutesFrom, scheduleClassroom } from '../../test/classroomFactories.ts';
import { attendanceOf, connectionCount } from '../../test/classrooms.ts';
import { channelMemberIds } from '../../test/communities.ts';
import {
  call,
  collect,
  connectSocket,
  emitAck,
  emitOk,
  eventually,
  ok,
  registerUsers,
  type ClientSocket,
  type TestUser,
} from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

const clock = manualClock();
let node: RunningNode;
const sockets: ClientSocket[] = [];
beforeAll(async () => {
  node = await startNode({ clock });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await node?.close();
});

const open = async (user: TestUser) => {
  const socket = await connectSocket(node.url, user.accessToken);
  sockets.push(socket);
  return socket;
};
/** A success body, or the error body of a refusal. */
type Answer<T> = T & { error?: { code: string; message: string } };
type Registered = Answer<{ registration: RegistrationDto; classroom: ClassroomDto }>;
const register = (classroom: { id: string }, user: TestUser) => call<Registered>(node, 'POST', `/classrooms/${classroom.id}/register`, user);
const unregister = (classroom: { id: string }, user: TestUser) => call<Answer<{ classroom: ClassroomDto }>>(node, 'DELETE', `/classrooms/${classroom.id}/register`, user);
const registrations = async (classroom: { id: string }, host: TestUser) =>
  (await ok<{ data: RegistrationDto[] }>(call(node, 'GET', `/classrooms/${classroom.id}/registrations`, host))).data;
/** Scheduled on this node's clock, which the tests move. */
const schedule = (host: TestUser, communityId: string, overrides: Parameters<typeof scheduleClassroom>[3] = {}) =>
  scheduleClassroom(node, host, communityId, { startsAt: minutesFrom(5, clock.now()), ...overrides });
const standing = (list: RegistrationDto[]) => list.map((r) => [r.user.id, r.status, r.waitlistPosition]);

describe('registering', () => {
  it('registers a member once; registering again changes nothing', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 1);
    const learner = learners[0]!;
    const classroom = await schedule(host, communityId, { startsAt: minutesFrom(30, clock.now()) });
    const first = await register(classroom, learner);
    expect(first.status).toBe(201);
    expect(first.body.registration).toEqual({
      user: { id: learner.user.id, displayName: learner.user.displayName },
      status: 'registered',
      waitlistPosition: null,
      registeredAt: clock.now().toISOString(),
      attended: null,
    });
    expect(first.body.classroom).toMatchObject({ registeredCount: 1, myRole: 'learner', myRegistration: 'registered' });
    const again = await register(classroom, learner);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(standing(await registrations(classroom, host))).toEqual([[learner.user.id, 'registered', null]]);
    expect((await call(node, 'GET', `/classrooms/${classroom.id}/registrations`, learner)).status).toBe(403);
  });

  it('is for members of the community only: not the host, not outsiders', async () => {
    const priv = await classroomCommunity(node, 0, { visibility: 'private' });
    const pub = await classroomCommunity(node, 0);
    const [outsider] = await registerUsers(node.url, 1);
    const hidden = await schedule(priv.host, priv.communityId);
    const open = await schedule(pub.host, pub.communityId);
    expect((await register(hidden, outsider)).status).toBe(404);
    expect((await register(open, outsider)).body.error).toEqual({
      code: 'forbidden',
      message: 'Only members of the community can register (hosts and co-hosts need not).',
    });
    expect((await register(open, pub.host)).status).toBe(403);
  });

  it('refuses a ticketed class without a ticket and seats a learner who holds one', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 1);
    const learner = learners[0]!;
    const classroom = await schedule(host, communityId, { priceMinor: 1500 });
    expect(classroom).toMatchObject({ priceMinor: 1500, currency: 'EUR' });
    const res = await register(classroom, learner);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'conflict', message: 'Buy a ticket to register for this class.' });
    // A ticket (here granted by staff straight in the table) opens it.
    await dbOf(node)
      .insertInto('entitlements')
      .values({ id: crypto.randomUUID(), user_id: learner.user.id, resource_type: 'classroom', resource_id: classroom.id, source: 'grant', created_at: clock.now() })
      .execute();
    const seated = await register(classroom, learner);
    expect(seated.status).toBe(201);
    expect(seated.body.registration.status).toBe('registered');
  });

  it('asks a currency of a priced class', async () => {
    const { communityId, host } = await classroomCommunity(node, 0);
    const body = { communityId, title: 'Paid class', startsAt: minutesFrom(30, clock.now()), durationMinutes: 60, capacity: 5, priceMinor: 900 };
    const res = await call(node, 'POST', '/classrooms', host, body);
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toHaveProperty('currency');
    const free = await schedule(host, communityId);
    const res2 = await call(node, 'PATCH', `/classrooms/${free.id}`, host, { priceMinor: 900 });
    expect(res2.status).toBe(400);
    const priced = await ok<{ classroom: ClassroomDto }>(call(node, 'PATCH', `/classrooms/${free.id}`, host, { priceMinor: 900, currency: 'usd' }));
    expect(priced.classroom).toMatchObject({ priceMinor: 900, currency: 'USD' });
  });
});

describe('capacity and the waitlist', () => {
  it('waitlists learners once the class is full, in order; a cancelled seat goes to the first of them, who is told live', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 4);
    const [a, b, c, d] = learners as [TestUser, TestUser, TestUser, TestUser];
    const classroom = await schedule(host, communityId, { capacity: 2 });
    for (const user of [a, b]) expect((await register(classroom, user)).body.registration.status).toBe('registered');
    const waitC = await register(classroom, c);
    expect(waitC.status).toBe(201);
    expect(waitC.body.registration).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
    expect(waitC.body.classroom).toMatchObject({ registeredCount: 2, waitlistCount: 1, myRegistration: 'waitlisted', myWaitlistPosition: 1, myRole: null });
    // The clock stands still: registrations made at the same instant keep the order they were made in.
    expect((await register(classroom, d)).body.registration).toMatchObject({ status: 'waitlisted', waitlistPosition: 2 });

    const promotedToC = collect(await open(c), 'classroom:registration_promoted');
    const promotedToD = collect(await open(d), 'classroom:registration_promoted');
    const left = await ok<{ classroom: ClassroomDto }>(unregister(classroom, a));
    expect(left.classroom).toMatchObject({ registeredCount: 2, waitlistCount: 1, myRegistration: null, myRole: null });
    await eventually(() => promotedToC.length === 1, 3000, 'promotion reaches the learner');
    expect(promotedToC).toEqual([{ classroomId: classroom.id, title: classroom.title }]);
    expect((await ok<{ classroom: ClassroomDto }>(call(node, 'GET', `/classrooms/${classroom.id}`, d))).classroom.myWaitlistPosition).toBe(1);

    // Registering again after cancelling works, at the end of the line.
    expect((await register(classroom, a)).body.registration).toMatchObject({ status: 'waitlisted', waitlistPosition: 2 });
    const seated = [b, c].sort((x, y) => x.user.displayName.toLowerCase().localeCompare(y.user.displayName.toLowerCase()));
    expect(standing(await registrations(classroom, host))).toEqual([
      ...seated.map((u) => [u.user.id, 'registered', null]),
      [d.user.id, 'waitlisted', 1],
      [a.user.id, 'waitlisted', 2],
    ]);

    // Leaving the waitlist frees no seat and promotes nobody.
    await ok(unregister(classroom, d));
    expect(standing(await registrations(classroom, host)).filter((r) => r[1] === 'waitlisted')).toEqual([[a.user.id, 'waitlisted', 1]]);
    expect(promotedToD).toEqual([]);
    // Nothing to cancel: nothing changes.
    expect((await unregister(classroom, d)).status).toBe(200);
  });

  it('a member removed from the community gives up their seat and co-hosting; the first waitlisted learner is promoted', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 3);
    const [seated, waiting, cohost] = learners as [TestUser, TestUser, TestUser];
    const classroom = await schedule(host, communityId, { capacity: 1 });
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/cohosts`, host, { userId: cohost.user.id }));
    expect((await register(classroom, seated)).body.registration.status).toBe('registered');
    expect((await register(classroom, waiting)).body.registration.status).toBe('waitlisted');
    const promoted = collect(await open(waiting), 'classroom:registration_promoted');

    for (const user of [seated, cohost]) {
      expect((await call(node, 'DELETE', `/communities/${communityId}/members/${user.user.id}`, host)).status).toBe(204);
    }
    await eventually(() => promoted.length === 1, 3000, 'the freed seat reaches the waitlisted learner');
    expect(standing(await registrations(classroom, host))).toEqual([
      [waiting.user.id, 'registered', null],
      [seated.user.id, 'cancelled', null],
    ]);
    const now = await ok<{ classroom: ClassroomDto }>(call(node, 'GET', `/classrooms/${classroom.id}`, host));
    expect(now.classroom).toMatchObject({ registeredCount: 1, waitlistCount: 0, cohosts: [] });
  });

  it('more seats promote waitlisted learners at once', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 4);
    const classroom = await schedule(host, communityId, { capacity: 1 });
    for (const user of learners) await ok(register(classroom, user), 201);
    const told = await Promise.all(learners.map(async (u) => collect(await open(u), 'classroom:registration_promoted')));
    const res = await ok<{ classroom: ClassroomDto }>(call(node, 'PATCH', `/classrooms/${classroom.id}`, host, { capacity: 3 }));
    expect(res.classroom).toMatchObject({ capacity: 3, registeredCount: 3, waitlistCount: 1 });
    await eventually(() => told[1]!.length === 1 && told[2]!.length === 1, 3000, 'both promotions');
    expect(told.map((t) => t.length)).toEqual([0, 1, 1, 0]);
  });

  it('concurrent registrations never exceed the capacity', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 12);
    const classroom = await schedule(host, communityId, { capacity: 5 });
    const results = await Promise.all(learners.map((u) => register(classroom, u)));
    expect(results.map((r) => r.status)).toEqual(learners.map(() => 201));
    const statuses = results.map((r) => r.body.registration.status);
    expect(statuses.filter((s) => s === 'registered')).toHaveLength(5);
    const positions = results.map((r) => r.body.registration.waitlistPosition).filter((p) => p !== null);
    expect(positions.sort((x, y) => x! - y!)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const stored = await dbOf(node).selectFrom('classroom_registrations').select('status').where('classroom_id', '=', classroom.id).execute();
    expect(stored.filter((r) => r.status === 'registered')).toHaveLength(5);
    expect(stored.filter((r) => r.status === 'waitlisted')).toHaveLength(7);
  });

  it('opens no seat in an ended class: its registrations are history', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 1);
    const classroom = await schedule(host, communityId);
    await ok(register(classroom, learners[0]!), 201);
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/start`, host));
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/end`, host));
    expect((await unregister(classroom, learners[0]!)).body.error).toEqual({ code: 'conflict', message: 'This class has ended.' });
    expect((await register(classroom, learners[0]!)).body.error).toEqual({ code: 'conflict', message: 'This class has ended.' });
  });
});

describe('cancelling during the class', () => {
  it('takes the learner out of the room and its chat on every device, closing their attendance now', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 1);
    const learner = learners[0]!;
    const classroom = await schedule(host, communityId);
    await ok(register(classroom, learner), 201);
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/start`, host));
    const hostSocket = await open(host);
    const learnerSocket = await open(learner);
    const patches = collect(hostSocket, 'classroom:state');
    await emitOk(hostSocket, 'classroom:join', { classroomId: classroom.id });
    await emitOk(learnerSocket, 'classroom:join', { classroomId: classroom.id });
    const removed = collect(learnerSocket, 'classroom:removed');
    const chatRemoved = collect(learnerSocket, 'channel:removed');
    clock.advance(10 * 60_000);

    await ok(unregister(classroom, learner));
    await eventually(() => removed.length === 1 && chatRemoved.length === 1, 3000, 'the learner is told');
    expect(removed).toEqual([{ classroomId: classroom.id, reason: 'unregistered' }]);
    expect(chatRemoved).toEqual([{ channelId: classroom.channelId }]);
    await eventually(() => patches.some((p) => p.removed?.includes(learner.user.id)), 3000, 'the room sees them go');
    expect((await attendanceOf(node, classroom.id, learner.user.id)).map((i) => i.leftAt)).toEqual([clock.now().toISOString()]);
    expect(await connectionCount(node, classroom.id, learner.user.id)).toBe(0);
    expect(await channelMemberIds(node, classroom.channelId)).not.toContain(learner.user.id);
    const rejoin = await emitAck(learnerSocket, 'classroom:join', { classroomId: classroom.id });
    expect(rejoin).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('closes an interval the room recorded even when the learner has no socket left', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 1);
    const learner = learners[0]!;
    const classroom = await schedule(host, communityId);
    await ok(register(classroom, learner), 201);
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/start`, host));
    await insertAttendance(node, classroom.id, learner.user.id, clock.now(), null);
    clock.advance(60_000);
    await ok(unregister(classroom, learner));
    expect(await attendanceOf(node, classroom.id, learner.user.id)).toEqual([{ joinedAt: expect.any(String), leftAt: clock.now().toISOString() }]);
  });
});
