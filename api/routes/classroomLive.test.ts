import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ClassroomDto } from '../../contracts/classrooms.ts';
import { manualClock } from '../../domain/shared/time.ts';
import { classroomCommunity, minutesFrom, scheduleClassroom, TEST_AGORA } from '../../test/classroomFactories.ts';
import { addToCommunity } from '../../test/communities.ts';
import { call, collect, connectSocket, emitAck, emitOk, eventually, ok, type ClientSocket, type TestUser } from '../../test/factories.ts';
import { startCluster, type RunningNode } from '../../test/nodes.ts';

/** A live class on a cluster: the host's requests land on node A, learners are connected to node B. */
describe.skipIf(!inject('redisUrl'))('a live class across two nodes (needs Redis)', () => {
  const clock = manualClock();
  let a: RunningNode;
  let b: RunningNode;
  let close: () => Promise<void>;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    const cluster = await startCluster(2, { clock, env: TEST_AGORA });
    [a, b] = cluster.nodes as [RunningNode, RunningNode];
    close = cluster.close;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await close?.();
  });

  const open = async (node: RunningNode, user: TestUser) => {
    const socket = await connectSocket(node.url, user.accessToken);
    sockets.push(socket);
    return socket;
  };
  const schedule = (host: TestUser, communityId: string, minutesAhead: number, overrides: Parameters<typeof scheduleClassroom>[3] = {}) =>
    scheduleClassroom(a, host, communityId, { startsAt: minutesFrom(minutesAhead, clock.now()), ...overrides });

  it('only the host or a community admin starts it, and not more than 15 minutes early', async () => {
    const { communityId, host, learners } = await classroomCommunity(a, 3);
    const [learner, cohost, admin] = learners as [TestUser, TestUser, TestUser];
    await addToCommunity(a, communityId, admin, 'admin');
    const classroom = await schedule(host, communityId, 60);
    await ok(call(a, 'POST', `/classrooms/${classroom.id}/register`, learner), 201);
    await ok(call(a, 'POST', `/classrooms/${classroom.id}/cohosts`, host, { userId: cohost.user.id }));

    const opensAt = new Date(Date.parse(classroom.startsAt) - 15 * 60_000).toISOString();
    const early = await call(a, 'POST', `/classrooms/${classroom.id}/start`, host);
    expect(early.status).toBe(409);
    expect(early.body.error).toEqual({
      code: 'conflict',
      message: `Too early: this class can start from ${opensAt}, 15 minutes before its scheduled start.`,
      details: { opensAt },
    });
    for (const user of [learner, cohost]) {
      expect((await call(a, 'POST', `/classrooms/${classroom.id}/start`, user)).body.error).toEqual({
        code: 'forbidden',
        message: 'Only the host or a community admin can do that.',
      });
    }
    clock.set(opensAt);
    const started = await ok<{ classroom: ClassroomDto }>(call(a, 'POST', `/classrooms/${classroom.id}/start`, admin));
    expect(started.classroom).toMatchObject({ status: 'live', startedAt: opensAt });
    expect((await call(a, 'POST', `/classrooms/${classroom.id}/start`, host)).body.error).toEqual({ code: 'conflict', message: 'This class is already live.' });
  });

  it('classroom:started reaches registered learners, the host and co-hosts on the other node, once each', async () => {
    const { communityId, host, learners } = await classroomCommunity(a, 4);
    const [registered, cohost, waitlisted, bystander] = learners as [TestUser, TestUser, TestUser, TestUser];
    const classroom = await schedule(host, communityId, 10, { capacity: 1 });
    await ok(call(a, 'POST', `/classrooms/${classroom.id}/register`, registered), 201);
    await ok(call(a, 'POST', `/classrooms/${classroom.id}/register`, waitlisted), 201);
    await ok(call(a, 'POST', `/classrooms/${classroom.id}/cohosts`, host, { userId: cohost.user.id }));
    const everyone = [registered, cohost, host, waitlisted, bystander];
    const heard = await Promise.all(everyone.map(async (u) => collect(await open(b, u), 'classroom:started')));
    // A second device of the learner, on the other node, hears it too.
    const otherDevice = collect(await open(a, registered), 'classroom:started');

    await ok(call(a, 'POST', `/classrooms/${classroom.id}/start`, host));
    const expected = { classroomId: classroom.id, communityId, title: classroom.title };
    await eventually(() => heard.slice(0, 3).every((h) => h.length === 1) && otherDevice.length === 1, 3000, 'classroom:started');
    // Give stray duplicates a moment to arrive before asserting there are none.
    await new Promise((r) => setTimeout(r, 200));
    expect(heard).toEqual([[expected], [expected], [expected], [], []]);
    expect(otherDevice).toEqual([expected]);
  });

  it('ending tells everyone in the room, closes the chat, marks attendance and issues no more tokens', async () => {
    const { communityId, host, learners } = await classroomCommunity(a, 1);
    const learner = learners[0]!;
    const classroom = await schedule(host, communityId, 5);
    await ok(call(a, 'POST', `/classrooms/${classroom.id}/register`, learner), 201);
    expect((await call(a, 'POST', `/classrooms/${classroom.id}/end`, host)).body.error).toEqual({
      code: 'conflict',
      message: 'This class has not started yet.',
    });
    await ok(call(a, 'POST', `/classrooms/${classroom.id}/start`, host));
    const hostSocket = await open(a, host);
    const learnerSocket = await open(b, learner);
    await emitOk(hostSocket, 'classroom:join', { classroomId: classroom.id });
    await emitOk(learnerSocket, 'classroom:join', { classroomId: classroom.id });
    await emitOk(learnerSocket, 'hand:raise', { classroomId: classroom.id });
    const { poll } = await emitOk(hostSocket, 'poll:create', { classroomId: classroom.id, question: 'Ready?', options: ['Yes', 'No'] });
    const patches = collect(learnerSocket, 'classroom:state');
    await ok(call(a, 'POST', `/classrooms/${classroom.id}/rtc-token`, learner));
    clock.advance(30 * 60_000);

    expect((await call(a, 'POST', `/classrooms/${classroom.id}/end`, learner)).status).toBe(403);
    const ended = await ok<{ classroom: ClassroomDto }>(call(a, 'POST', `/classrooms/${classroom.id}/end`, host));
    expect(ended.classroom).toMatchObject({ status: 'ended', endedAt: clock.now().toISOString() });
    await eventually(() => patches.some((p) => p.status === 'ended'), 3000, 'the room hears the end');
    const patch = patches.find((p) => p.status === 'ended')!;
    expect(patch).toMatchObject({ endedAt: clock.now().toISOString(), handQueue: [], polls: [{ id: poll.id, status: 'closed' }] });
    expect(patch.participants?.map((p) => [p.user.id, p.present, p.handRaisedAt])).toEqual(
      expect.arrayContaining([
        [host.user.id, false, null],
        [learner.user.id, false, null],
      ]),
    );

    for (const user of [host, learner]) {
      expect((await call(b, 'POST', `/classrooms/${classroom.id}/rtc-token`, user)).body.error).toEqual({
        code: 'conflict',
        message: 'This class has ended: no more video tokens.',
      });
    }
    const posted = await emitAck(hostSocket, 'message:send', { channelId: classroom.channelId, clientId: `after-end-${classroom.id}`, body: 'hello?' });
    expect(posted).toMatchObject({ ok: false, error: { code: 'forbidden', message: 'This channel is archived.' } });
    const [registration] = (await ok(call(a, 'GET', `/classrooms/${classroom.id}/registrations`, host))).data;
    // Present from the start to the end: attended.
    expect(registration).toMatchObject({ user: { id: learner.user.id }, status: 'registered', attended: true });
    expect((await call(a, 'POST', `/classrooms/${classroom.id}/end`, host)).body.error).toEqual({ code: 'conflict', message: 'This class has ended.' });
  });

  it('a learner in the room made co-host: everyone sees the new role and their video publishes; removed, they leave', async () => {
    const { communityId, host, learners } = await classroomCommunity(a, 1);
    const learner = learners[0]!;
    const classroom = await schedule(host, communityId, 5);
    await ok(call(a, 'POST', `/classrooms/${classroom.id}/register`, learner), 201);
    await ok(call(a, 'POST', `/classrooms/${classroom.id}/start`, host));
    const hostSocket = await open(a, host);
    const learnerSocket = await open(b, learner);
    await emitOk(hostSocket, 'classroom:join', { classroomId: classroom.id });
    await emitOk(learnerSocket, 'classroom:join', { classroomId: classroom.id });
    const patches = collect(hostSocket, 'classroom:state');
    const tokens = collect(learnerSocket, 'classroom:token');
    const removed = collect(learnerSocket, 'classroom:removed');

    await ok(call(a, 'POST', `/classrooms/${classroom.id}/cohosts`, host, { userId: learner.user.id }));
    await eventually(() => patches.some((p) => p.participants?.some((x) => x.user.id === learner.user.id && x.role === 'cohost')), 3000, 'new role');
    await eventually(() => tokens.length === 1, 3000, 'a publisher token');
    expect(tokens[0]).toMatchObject({ classroomId: classroom.id, role: 'publisher', channel: `edulure-${classroom.id}` });

    await ok(call(a, 'DELETE', `/classrooms/${classroom.id}/cohosts/${learner.user.id}`, host));
    await eventually(() => removed.length === 1, 3000, 'classroom:removed');
    expect(removed[0]).toEqual({ classroomId: classroom.id, reason: 'removed' });
    await eventually(() => patches.some((p) => p.removed?.includes(learner.user.id)), 3000, 'the room sees them go');
    // Their seat went with the co-host role: no way back in without registering again.
    expect(await emitAck(learnerSocket, 'classroom:join', { classroomId: classroom.id })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});
