import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassroomDto } from '../../contracts/classrooms.ts';
import { classroomCommunity, minutesFrom, scheduleClassroom, withPlatformRole } from '../../test/classroomFactories.ts';
import { addToCommunity, channelMemberIds, seedCommunity } from '../../test/communities.ts';
import { call, collect, connectSocket, eventually, ok, registerUsers, type ClientSocket, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
const sockets: ClientSocket[] = [];
beforeAll(async () => {
  node = await startNode();
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
const body = (communityId: string, extra: Record<string, unknown> = {}) => ({
  communityId,
  title: 'Linear algebra, live',
  startsAt: minutesFrom(60),
  durationMinutes: 45,
  capacity: 10,
  ...extra,
});

describe('who may schedule a class', () => {
  const WHO = ['owner', 'admin', 'moderator', 'instructorModerator', 'member', 'outsider', 'otherAdmin', 'anonymous'] as const;
  type Who = (typeof WHO)[number];
  const users = {} as Record<Exclude<Who, 'anonymous'>, TestUser>;
  let priv: string;
  let pub: string;

  beforeAll(async () => {
    const [owner, admin, moderator, instructor, member, outsider, otherAdmin] = await registerUsers(node.url, 7);
    Object.assign(users, { owner, admin, moderator, member, outsider, otherAdmin });
    users.instructorModerator = await withPlatformRole(node, instructor, 'instructor');
    const members = [
      { userId: owner.user.id, role: 'owner' as const },
      { userId: admin.user.id, role: 'admin' as const },
      { userId: moderator.user.id, role: 'moderator' as const },
      { userId: instructor.user.id, role: 'moderator' as const },
      { userId: member.user.id, role: 'member' as const },
    ];
    priv = (await seedCommunity(node, { members, channels: [], visibility: 'private' })).communityId;
    pub = (await seedCommunity(node, { members, channels: [], visibility: 'public' })).communityId;
    await seedCommunity(node, { members: [{ userId: otherAdmin.user.id, role: 'admin' }], channels: [] });
  });

  const attempt = async (communityId: string) => {
    const statuses = {} as Record<Who, number>;
    for (const who of WHO) {
      const res = await call(node, 'POST', '/classrooms', who === 'anonymous' ? undefined : users[who], body(communityId));
      statuses[who] = res.status;
      if (res.status >= 400) expect(Object.keys(res.body.error).sort()).toEqual(['code', 'message']);
    }
    return statuses;
  };

  it('in a private community: owners, admins and instructors who moderate it; outsiders do not learn it exists', async () => {
    expect(await attempt(priv)).toEqual({
      owner: 201,
      admin: 201,
      moderator: 403,
      instructorModerator: 201,
      member: 403,
      outsider: 404,
      otherAdmin: 404,
      anonymous: 401,
    });
  });

  it('in a public community: the same people; outsiders are refused', async () => {
    expect(await attempt(pub)).toEqual({
      owner: 201,
      admin: 201,
      moderator: 403,
      instructorModerator: 201,
      member: 403,
      outsider: 403,
      otherAdmin: 403,
      anonymous: 401,
    });
    const refused = await call(node, 'POST', '/classrooms', users.member, body(pub));
    expect(refused.body.error.message).toBe('Only community owners and admins, and instructors who moderate the community, can schedule classes.');
  });
});

describe('scheduling', () => {
  it('creates the class with its own private chat channel, the host its first member', async () => {
    const { communityId, host } = await classroomCommunity(node, 0);
    const startsAt = minutesFrom(90);
    const res = await call<{ classroom: ClassroomDto }>(node, 'POST', '/classrooms', host, {
      ...body(communityId),
      startsAt,
      description: '  Bring paper.  ',
      waitingRoom: true,
    });
    expect(res.status).toBe(201);
    const classroom = res.body.classroom;
    expect(classroom).toEqual({
      id: expect.any(String),
      communityId,
      title: 'Linear algebra, live',
      description: 'Bring paper.',
      startsAt: new Date(startsAt).toISOString(),
      durationMinutes: 45,
      capacity: 10,
      waitingRoom: true,
      priceMinor: 0,
      currency: null,
      status: 'scheduled',
      host: { id: host.user.id, displayName: host.user.displayName },
      cohosts: [],
      registeredCount: 0,
      waitlistCount: 0,
      channelId: expect.any(String),
      startedAt: null,
      endedAt: null,
      cancelledAt: null,
      myRole: 'host',
      myRegistration: null,
      myWaitlistPosition: null,
      myHoldExpiresAt: null,
    });
    const channel = await dbOf(node)
      .selectFrom('channels')
      .select(['kind', 'visibility', 'name', 'community_id', 'created_by_id'])
      .where('id', '=', classroom.channelId)
      .executeTakeFirst();
    expect(channel).toEqual({ kind: 'classroom', visibility: 'private', name: null, community_id: communityId, created_by_id: host.user.id });
    expect(await channelMemberIds(node, classroom.channelId)).toEqual([host.user.id]);
  });

  it('refuses a start in the past and malformed fields, naming them', async () => {
    const { communityId, host } = await classroomCommunity(node, 0);
    const past = await call(node, 'POST', '/classrooms', host, { ...body(communityId), startsAt: minutesFrom(-1) });
    expect(past.status).toBe(400);
    expect(past.body.error.code).toBe('invalid_input');
    expect(past.body.error.details.fields).toHaveProperty('startsAt');
    const bad = await call(node, 'POST', '/classrooms', host, { ...body(communityId), durationMinutes: 2, capacity: 0, startsAt: 'tomorrow' });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details.fields).sort()).toEqual(['capacity', 'durationMinutes', 'startsAt']);
    const unknown = await call(node, 'POST', '/classrooms', host, { ...body(crypto.randomUUID()) });
    expect(unknown.status).toBe(404);
  });
});

describe('finding classes', () => {
  it('lists scheduled and live classes soonest first, within from/to, with my standing in each', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 2);
    const [learner, other] = learners as [TestUser, TestUser];
    const later = await scheduleClassroom(node, host, communityId, { title: 'Later class', startsAt: minutesFrom(120) });
    const soon = await scheduleClassroom(node, host, communityId, { title: 'Soon class', startsAt: minutesFrom(10), capacity: 1 });
    const live = await scheduleClassroom(node, host, communityId, { title: 'Live class', startsAt: minutesFrom(5) });
    const cancelled = await scheduleClassroom(node, host, communityId, { title: 'Cancelled class', startsAt: minutesFrom(30) });
    await ok(call(node, 'POST', `/classrooms/${live.id}/start`, host));
    await ok(call(node, 'POST', `/classrooms/${cancelled.id}/cancel`, host));
    await ok(call(node, 'POST', `/classrooms/${soon.id}/register`, other), 201);
    await ok(call(node, 'POST', `/classrooms/${soon.id}/register`, learner), 201);

    const listed = await ok<{ data: ClassroomDto[] }>(call(node, 'GET', `/classrooms?communityId=${communityId}`, learner));
    expect(listed.data.map((c) => c.title)).toEqual(['Live class', 'Soon class', 'Later class']);
    const mine = listed.data.find((c) => c.id === soon.id)!;
    expect(mine).toMatchObject({ registeredCount: 1, waitlistCount: 1, myRole: null, myRegistration: 'waitlisted', myWaitlistPosition: 1 });
    expect(listed.data.find((c) => c.id === live.id)).toMatchObject({ status: 'live', startedAt: expect.any(String) });

    const window = await ok<{ data: ClassroomDto[] }>(
      call(node, 'GET', `/classrooms?communityId=${communityId}&from=${encodeURIComponent(minutesFrom(20))}&to=${encodeURIComponent(minutesFrom(180))}`, learner),
    );
    // The live class began before `from` and is still listed: it is happening now.
    expect(window.data.map((c) => c.title)).toEqual(['Live class', 'Later class']);
    const limited = await ok<{ data: ClassroomDto[] }>(call(node, 'GET', `/classrooms?communityId=${communityId}&limit=1`, learner));
    expect(limited.data.map((c) => c.id)).toEqual([live.id]);

    const one = await ok<{ classroom: ClassroomDto }>(call(node, 'GET', `/classrooms/${soon.id}`, other));
    expect(one.classroom).toMatchObject({ myRole: 'learner', myRegistration: 'registered', myWaitlistPosition: null });
    expect((await ok<{ classroom: ClassroomDto }>(call(node, 'GET', `/classrooms/${later.id}`, host))).classroom.myRole).toBe('host');
  });

  it('without a community: classes of every community I belong to, and no others', async () => {
    const a = await classroomCommunity(node, 1);
    const b = await classroomCommunity(node, 0);
    const learner = a.learners[0]!;
    await addToCommunity(node, b.communityId, learner);
    const elsewhere = await classroomCommunity(node, 0);
    const inA = await scheduleClassroom(node, a.host, a.communityId, { startsAt: minutesFrom(40) });
    const inB = await scheduleClassroom(node, b.host, b.communityId, { startsAt: minutesFrom(20) });
    await scheduleClassroom(node, elsewhere.host, elsewhere.communityId);
    const listed = await ok<{ data: ClassroomDto[] }>(call(node, 'GET', '/classrooms', learner));
    expect(listed.data.map((c) => c.id)).toEqual([inB.id, inA.id]);
  });

  it('classes of a private community do not exist for outsiders; a public one shows them to anyone signed in', async () => {
    const priv = await classroomCommunity(node, 0, { visibility: 'private' });
    const pub = await classroomCommunity(node, 0);
    const [outsider] = await registerUsers(node.url, 1);
    const hidden = await scheduleClassroom(node, priv.host, priv.communityId);
    const shown = await scheduleClassroom(node, pub.host, pub.communityId);
    expect((await call(node, 'GET', `/classrooms/${hidden.id}`, outsider)).status).toBe(404);
    expect((await call(node, 'GET', `/classrooms?communityId=${priv.communityId}`, outsider)).status).toBe(404);
    const visible = await ok<{ classroom: ClassroomDto }>(call(node, 'GET', `/classrooms/${shown.id}`, outsider));
    expect(visible.classroom).toMatchObject({ id: shown.id, myRole: null, myRegistration: null });
    expect((await ok<{ data: ClassroomDto[] }>(call(node, 'GET', `/classrooms?communityId=${pub.communityId}`, outsider))).data).toHaveLength(1);
    expect((await call(node, 'GET', `/classrooms/${crypto.randomUUID()}`, outsider)).status).toBe(404);
  });
});

describe('editing and cancelling', () => {
  it('the host edits a scheduled class; others are refused; once live only the title and description change', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 1);
    const classroom = await scheduleClassroom(node, host, communityId, { startsAt: minutesFrom(5) });
    const edited = await ok<{ classroom: ClassroomDto }>(
      call(node, 'PATCH', `/classrooms/${classroom.id}`, host, { title: 'Renamed', capacity: 5, waitingRoom: true, startsAt: minutesFrom(10) }),
    );
    expect(edited.classroom).toMatchObject({ title: 'Renamed', capacity: 5, waitingRoom: true });
    expect((await call(node, 'PATCH', `/classrooms/${classroom.id}`, learners[0], { title: 'Mine now' })).status).toBe(403);
    const past = await call(node, 'PATCH', `/classrooms/${classroom.id}`, host, { startsAt: minutesFrom(-5) });
    expect(past.status).toBe(400);
    expect((await call(node, 'PATCH', `/classrooms/${classroom.id}`, host, {})).status).toBe(400);

    await ok(call(node, 'POST', `/classrooms/${classroom.id}/start`, host));
    expect((await ok<{ classroom: ClassroomDto }>(call(node, 'PATCH', `/classrooms/${classroom.id}`, host, { description: 'Now live' }))).classroom.description).toBe('Now live');
    const capacity = await call(node, 'PATCH', `/classrooms/${classroom.id}`, host, { capacity: 50 });
    expect(capacity.status).toBe(409);
    expect(capacity.body.error.message).toBe('The class is live: only its title and description can change now.');
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/end`, host));
    expect((await call(node, 'PATCH', `/classrooms/${classroom.id}`, host, { title: 'Too late' })).body.error).toEqual({
      code: 'conflict',
      message: 'This class has ended.',
    });
  });

  it('will not take seats away from registered learners', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 2);
    const classroom = await scheduleClassroom(node, host, communityId, { capacity: 3 });
    for (const learner of learners) await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, learner), 201);
    const res = await call(node, 'PATCH', `/classrooms/${classroom.id}`, host, { capacity: 1 });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe('2 learners are registered: the capacity cannot go below that.');
    expect((await ok(call(node, 'PATCH', `/classrooms/${classroom.id}`, host, { capacity: 2 }))).classroom.capacity).toBe(2);
  });

  it('cancelling tells registered and waitlisted learners live, closes the chat and registration', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 3);
    const [registered, waitlisted, bystander] = learners as [TestUser, TestUser, TestUser];
    const classroom = await scheduleClassroom(node, host, communityId, { capacity: 1 });
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, registered), 201);
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, waitlisted), 201);
    const seen = [registered, waitlisted, bystander].map(() => [] as unknown[]);
    for (const [i, user] of [registered, waitlisted, bystander].entries()) seen[i] = collect(await open(user), 'classroom:removed');

    expect((await call(node, 'POST', `/classrooms/${classroom.id}/cancel`, registered)).status).toBe(403);
    const cancelled = await ok<{ classroom: ClassroomDto }>(call(node, 'POST', `/classrooms/${classroom.id}/cancel`, host));
    expect(cancelled.classroom).toMatchObject({ status: 'cancelled', cancelledAt: expect.any(String) });
    await eventually(() => seen[0]!.length === 1 && seen[1]!.length === 1, 3000, 'both learners told');
    expect(seen[0]).toEqual([{ classroomId: classroom.id, reason: 'unregistered' }]);
    expect(seen[2]).toEqual([]);

    const channel = await dbOf(node).selectFrom('channels').select('archived_at').where('id', '=', classroom.channelId).executeTakeFirstOrThrow();
    expect(channel.archived_at).toBeInstanceOf(Date);
    expect((await call(node, 'POST', `/classrooms/${classroom.id}/register`, bystander)).body.error).toEqual({
      code: 'conflict',
      message: 'This class was cancelled.',
    });
    expect((await call(node, 'POST', `/classrooms/${classroom.id}/cancel`, host)).status).toBe(409);
    expect((await call(node, 'POST', `/classrooms/${classroom.id}/start`, host)).status).toBe(409);
  });

  it('a live class cannot be cancelled, only ended', async () => {
    const { communityId, host } = await classroomCommunity(node, 0);
    const classroom = await scheduleClassroom(node, host, communityId);
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/start`, host));
    const res = await call(node, 'POST', `/classrooms/${classroom.id}/cancel`, host);
    expect(res.body.error).toEqual({ code: 'conflict', message: 'The class is live: end it instead of cancelling it.' });
  });
});

describe('co-hosts', () => {
  it('the host adds a community member as co-host, who joins the class chat and sees the class as co-host', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 2);
    const [cohost, member] = learners as [TestUser, TestUser];
    const [outsider] = await registerUsers(node.url, 1);
    const classroom = await scheduleClassroom(node, host, communityId);
    const added = collect(await open(cohost), 'channel:added');

    expect((await call(node, 'POST', `/classrooms/${classroom.id}/cohosts`, member, { userId: cohost.user.id })).status).toBe(403);
    const notMember = await call(node, 'POST', `/classrooms/${classroom.id}/cohosts`, host, { userId: outsider.user.id });
    expect(notMember.body.error).toEqual({ code: 'not_found', message: 'That user is not a member of this community.' });
    const self = await call(node, 'POST', `/classrooms/${classroom.id}/cohosts`, host, { userId: host.user.id });
    expect(self.status).toBe(409);

    const res = await ok<{ classroom: ClassroomDto }>(call(node, 'POST', `/classrooms/${classroom.id}/cohosts`, host, { userId: cohost.user.id }));
    expect(res.classroom.cohosts).toEqual([{ id: cohost.user.id, displayName: cohost.user.displayName }]);
    const again = await ok<{ classroom: ClassroomDto }>(call(node, 'POST', `/classrooms/${classroom.id}/cohosts`, host, { userId: cohost.user.id }));
    expect(again.classroom.cohosts).toHaveLength(1);
    await eventually(() => added.length === 1, 3000, 'channel:added');
    expect(added[0]).toEqual({ channelId: classroom.channelId, communityId });
    expect((await ok<{ classroom: ClassroomDto }>(call(node, 'GET', `/classrooms/${classroom.id}`, cohost))).classroom.myRole).toBe('cohost');
    expect((await channelMemberIds(node, classroom.channelId)).sort()).toEqual([host.user.id, cohost.user.id].sort());
    // Co-hosts run the class; they do not take a seat in it.
    expect((await call(node, 'POST', `/classrooms/${classroom.id}/register`, cohost)).status).toBe(403);
  });

  it('a registered learner made co-host gives up the seat to the first on the waitlist', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 2);
    const [seated, waiting] = learners as [TestUser, TestUser];
    const classroom = await scheduleClassroom(node, host, communityId, { capacity: 1 });
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, seated), 201);
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, waiting), 201);
    const promoted = collect(await open(waiting), 'classroom:registration_promoted');
    const res = await ok<{ classroom: ClassroomDto }>(call(node, 'POST', `/classrooms/${classroom.id}/cohosts`, host, { userId: seated.user.id }));
    expect(res.classroom).toMatchObject({ registeredCount: 1, waitlistCount: 0 });
    await eventually(() => promoted.length === 1, 3000, 'promotion');
    expect(promoted[0]).toEqual({ classroomId: classroom.id, title: classroom.title });
  });

  it('removing a co-host takes the class chat away from them, live', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 1);
    const cohost = learners[0]!;
    const classroom = await scheduleClassroom(node, host, communityId);
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/cohosts`, host, { userId: cohost.user.id }));
    const removed = collect(await open(cohost), 'channel:removed');
    const res = await ok<{ classroom: ClassroomDto }>(call(node, 'DELETE', `/classrooms/${classroom.id}/cohosts/${cohost.user.id}`, host));
    expect(res.classroom.cohosts).toEqual([]);
    await eventually(() => removed.length === 1, 3000, 'channel:removed');
    expect(removed[0]).toEqual({ channelId: classroom.channelId });
    expect(await channelMemberIds(node, classroom.channelId)).not.toContain(cohost.user.id);
    expect((await ok<{ classroom: ClassroomDto }>(call(node, 'GET', `/classrooms/${classroom.id}`, cohost))).classroom.myRole).toBeNull();
    const again = await call(node, 'DELETE', `/classrooms/${classroom.id}/cohosts/${cohost.user.id}`, host);
    expect(again.body.error).toEqual({ code: 'not_found', message: 'That user is not a co-host of this class.' });
  });
});
