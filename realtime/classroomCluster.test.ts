import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AttendanceReportDto } from '../contracts/classrooms.ts';
import { manualClock } from '../domain/shared/time.ts';
import { attendanceOf, connectionCount, participantIn, roomClient, seedClassroom, type RoomClient } from '../test/classrooms.ts';
import { call, collect, connectSocket, emitAck, emitOk, eventually, ok, type ClientSocket, type TestUser } from '../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../test/nodes.ts';

const MINUTE = 60_000;
// Survivors sweep every 200 ms. A made-up node id never had liveness, so it is swept at once; the real nodes keep a
// generous TTL, so a busy test machine does not make them look dead (which would split attendance intervals).
const ENV = { RATE_LIMIT_EVENTS_PER_10S: '100000', PRESENCE_NODE_TTL_MS: '3000', PRESENCE_SWEEP_INTERVAL_MS: '200' };

describe.skipIf(!inject('redisUrl'))('classroom presence and attendance across nodes (one controlled clock)', () => {
  const clock = manualClock('2026-12-01T18:00:00.000Z');
  const clusterId = randomBytes(6).toString('hex');
  const start = () => startNode({ clusterId, redis: true, clock, env: ENV });
  let nodeA: RunningNode;
  let nodeB: RunningNode;
  const nodes: RunningNode[] = [];
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    nodes.push(...(await Promise.all([start(), start()])));
    [nodeA, nodeB] = nodes as [RunningNode, RunningNode];
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.all(nodes.map((n) => n.close()));
  });

  async function open(node: RunningNode, user: TestUser): Promise<ClientSocket> {
    const socket = await connectSocket(node.url, user.accessToken);
    sockets.push(socket);
    return socket;
  }
  async function enter(node: RunningNode, user: TestUser, classroomId: string): Promise<RoomClient> {
    const client = roomClient(await open(node, user), classroomId);
    expect((await client.join()).admitted).toBe(true);
    return client;
  }
  const at = (base: Date, ms: number) => new Date(base.getTime() + ms).toISOString();

  it('attendance intervals follow the clock; a reconnect inside the grace counts as present throughout', async () => {
    const t0 = clock.now();
    const room = await seedClassroom(nodeA, { learners: 1, startedAt: t0 });
    const { classroomId } = room;
    const learner = room.learners[0]!;
    const host = await enter(nodeA, room.host, classroomId);
    const first = await enter(nodeB, learner, classroomId);

    clock.advance(10 * MINUTE);
    first.socket.close();
    await eventually(async () => (await attendanceOf(nodeA, classroomId, learner.user.id))[0]?.leftAt !== null, 3000, 'interval closed');
    await eventually(() => participantIn(host.replica.state, learner.user.id)?.present === false, 3000, 'shown absent');

    clock.advance(10_000);
    await enter(nodeA, learner, classroomId);
    clock.advance(20 * MINUTE);
    const second = sockets.at(-1)!;
    await emitOk(second, 'classroom:leave', { classroomId });

    expect(await attendanceOf(nodeA, classroomId, learner.user.id)).toEqual([
      { joinedAt: t0.toISOString(), leftAt: at(t0, 10 * MINUTE) },
      { joinedAt: at(t0, 10 * MINUTE + 10_000), leftAt: at(t0, 30 * MINUTE + 10_000) },
    ]);
    expect(await attendanceOf(nodeA, classroomId, room.host.user.id)).toEqual([{ joinedAt: t0.toISOString(), leftAt: null }]);

    // The host's report bridges the 10 s gap (shorter than the reconnect grace): 30 min 10 s present.
    const report = await ok(call<AttendanceReportDto>(nodeB, 'GET', `/classrooms/${classroomId}/attendance`, room.host));
    const row = report.rows.find((r) => r.user.id === learner.user.id)!;
    expect(row.minutesAttended).toBe(30.17);
    expect(row.intervals).toHaveLength(2);
  });

  it('a user removed from the community on node A is out of the room on node B', async () => {
    const room = await seedClassroom(nodeA, { learners: 2 });
    const { classroomId, communityId } = room;
    const [kicked, leaver] = room.learners as [TestUser, TestUser];
    const host = await enter(nodeA, room.host, classroomId);
    const kickedClient = await enter(nodeB, kicked, classroomId);
    const leaverClient = await enter(nodeB, leaver, classroomId);
    const removed = collect(kickedClient.socket, 'classroom:removed');
    const chatRemoved = collect(kickedClient.socket, 'channel:removed');
    await emitOk(kickedClient.socket, 'hand:raise', { classroomId });
    await eventually(() => host.replica.state!.handQueue.length === 1, 3000, 'hand up');

    const kick = await call(nodeA, 'DELETE', `/communities/${communityId}/members/${kicked.user.id}`, room.host);
    expect(kick.status).toBe(204);
    await eventually(() => removed.length === 1, 3000, 'classroom:removed on node B');
    expect(removed).toEqual([{ classroomId, reason: 'removed' }]);
    expect(chatRemoved.map((e) => e.channelId)).toContain(room.channelId);
    await eventually(() => participantIn(host.replica.state, kicked.user.id) === undefined, 3000, 'off the roster');
    expect(host.replica.state!.handQueue).toEqual([]);
    expect(await connectionCount(nodeA, classroomId, kicked.user.id)).toBe(0);
    expect((await attendanceOf(nodeA, classroomId, kicked.user.id)).every((i) => i.leftAt !== null)).toBe(true);

    // Out of the room: later changes do not reach them, and coming back is refused.
    const version = kickedClient.replica.version;
    await emitOk(host.socket, 'room:mute_all', { classroomId });
    await eventually(() => leaverClient.replica.version === host.replica.version, 3000, 'the others hear the change');
    expect(kickedClient.replica.version).toBe(version);
    expect(await emitAck(kickedClient.socket, 'classroom:join', { classroomId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    // Leaving the community (on node A, while in the room on node B) has the same effect.
    const leaverRemoved = collect(leaverClient.socket, 'classroom:removed');
    const left = await call(nodeA, 'POST', `/communities/${communityId}/leave`, leaver);
    expect(left.status).toBe(204);
    await eventually(() => leaverRemoved.length === 1, 3000, 'classroom:removed after leaving');
    await eventually(() => participantIn(host.replica.state, leaver.user.id) === undefined, 3000, 'leaver off the roster');
  });

  it("a dead node's connections are swept by a survivor: attendance closed, shown absent; live nodes' are kept", async () => {
    const room = await seedClassroom(nodeA, { learners: 2, startedAt: clock.now() });
    const { classroomId } = room;
    const [stranded, alive] = room.learners as [TestUser, TestUser];
    const host = await enter(nodeA, room.host, classroomId);
    await enter(nodeB, alive, classroomId);
    // What a SIGKILLed node leaves behind: a connection under a node id whose liveness is gone, an open interval.
    const joinedAt = clock.now();
    const q = dbOf(nodeA);
    await q.insertInto('classroom_participants').values({ classroom_id: classroomId, user_id: stranded.user.id, admission: 'admitted' }).execute();
    await q
      .insertInto('classroom_connections')
      .values({
        classroom_id: classroomId,
        socket_id: `ghost-${randomBytes(4).toString('hex')}`,
        user_id: stranded.user.id,
        node_id: `dead-node-${randomBytes(4).toString('hex')}`,
      })
      .execute();
    await q.insertInto('classroom_attendance').values({ classroom_id: classroomId, user_id: stranded.user.id, joined_at: joinedAt }).execute();
    clock.advance(5 * MINUTE);

    await eventually(async () => (await connectionCount(nodeA, classroomId, stranded.user.id)) === 0, 5000, 'swept');
    expect(await attendanceOf(nodeA, classroomId, stranded.user.id)).toEqual([{ joinedAt: joinedAt.toISOString(), leftAt: at(joinedAt, 5 * MINUTE) }]);
    await eventually(() => participantIn(host.replica.state, stranded.user.id)?.present === false, 3000, 'absent for the host');
    expect(await connectionCount(nodeA, classroomId, alive.user.id)).toBe(1);
    expect(await connectionCount(nodeA, classroomId, room.host.user.id)).toBe(1);
  });

  it('a crowd dropping at once is recorded for every one of them', async () => {
    const room = await seedClassroom(nodeA, { learners: 5, startedAt: clock.now() });
    const { classroomId } = room;
    const host = await enter(nodeA, room.host, classroomId);
    const crowd = await Promise.all(room.learners.map((l) => enter(nodeB, l, classroomId)));
    clock.advance(MINUTE);
    for (const client of crowd) client.socket.close();
    await eventually(
      () => room.learners.every((l) => participantIn(host.replica.state, l.user.id)?.present === false),
      5000,
      'everyone shown absent',
    );
    for (const learner of room.learners) {
      expect(await attendanceOf(nodeA, classroomId, learner.user.id)).toEqual([
        { joinedAt: at(clock.now(), -MINUTE), leftAt: clock.now().toISOString() },
      ]);
    }
  });

  it('a node that only looked dead (its connection rows swept) records its sockets again', async () => {
    const room = await seedClassroom(nodeA, { learners: 1, startedAt: clock.now() });
    const { classroomId } = room;
    const learner = room.learners[0]!;
    const host = await enter(nodeA, room.host, classroomId);
    const client = await enter(nodeB, learner, classroomId);
    await dbOf(nodeA)
      .deleteFrom('classroom_connections')
      .where('classroom_id', '=', classroomId)
      .where('user_id', '=', learner.user.id)
      .execute();
    await eventually(async () => (await connectionCount(nodeA, classroomId, learner.user.id)) === 1, 5000, 'connection recorded again');
    // Still in the room and present for everyone.
    await emitOk(host.socket, 'room:mute_all', { classroomId });
    await eventually(() => client.replica.version === host.replica.version, 3000, 'still hears the room');
    expect(participantIn(host.replica.state, learner.user.id)?.present).toBe(true);
  });

  it("a node shutting down takes its sockets out of their rooms first, and the other nodes' people see it", async () => {
    const nodeC = await start();
    nodes.push(nodeC);
    const room = await seedClassroom(nodeA, { learners: 1, startedAt: clock.now() });
    const { classroomId } = room;
    const learner = room.learners[0]!;
    const host = await enter(nodeA, room.host, classroomId);
    const onC = await enter(nodeC, learner, classroomId);
    await emitOk(onC.socket, 'hand:raise', { classroomId });
    await eventually(() => participantIn(host.replica.state, learner.user.id)?.present === true, 3000, 'present');
    clock.advance(MINUTE);

    await nodeC.close();
    await eventually(() => participantIn(host.replica.state, learner.user.id)?.present === false, 3000, 'absent after the shutdown');
    expect(await connectionCount(nodeA, classroomId, learner.user.id)).toBe(0);
    const [interval] = await attendanceOf(nodeA, classroomId, learner.user.id);
    expect(interval!.leftAt).toBe(clock.now().toISOString());
    // A shutdown is not a leave: the hand stays up for when they reconnect elsewhere.
    expect(host.replica.state!.handQueue).toEqual([learner.user.id]);
  });
});
