import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ClassroomStateDto } from '../contracts/classrooms.ts';
import type { AckResult } from '../contracts/errors.ts';
import { comparable, participantIn, roomClient, seedClassroom, type RoomClient } from '../test/classrooms.ts';
import { collect, connectSocket, emitAck, emitOk, eventually, type ClientSocket, type TestUser } from '../test/factories.ts';
import { dbOf, startCluster, type RunningNode } from '../test/nodes.ts';

describe.skipIf(!inject('redisUrl'))('classroom room state across two nodes (host on A, learners on B)', () => {
  let nodeA: RunningNode;
  let nodeB: RunningNode;
  let close: () => Promise<void>;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    const cluster = await startCluster(2, { env: { RATE_LIMIT_EVENTS_PER_10S: '100000' } });
    [nodeA, nodeB] = cluster.nodes as [RunningNode, RunningNode];
    close = cluster.close;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await close?.();
  });

  async function open(node: RunningNode, user: TestUser): Promise<ClientSocket> {
    const socket = await connectSocket(node.url, user.accessToken);
    sockets.push(socket);
    return socket;
  }
  async function enter(node: RunningNode, user: TestUser, classroomId: string): Promise<RoomClient> {
    const client = roomClient(await open(node, user), classroomId);
    const joined = await client.join();
    expect(joined.admitted).toBe(true);
    return client;
  }
  /** A fresh snapshot, as a client re-joining from a socket already in the room gets it. */
  async function freshState(client: RoomClient, classroomId: string): Promise<ClassroomStateDto> {
    const result = await emitOk(client.socket, 'classroom:join', { classroomId });
    if (!result.admitted) throw new Error('not admitted to the room');
    return result.state;
  }
  async function expectConverged(clients: RoomClient[], reference: RoomClient, classroomId: string) {
    const fresh = await freshState(reference, classroomId);
    for (const client of clients) {
      await eventually(() => client.replica.version === fresh.version, 3000, `replica at version ${fresh.version}`);
      expect(client.replica.pending.size).toBe(0);
      expect(comparable(client.replica.state!)).toEqual(comparable(fresh));
    }
    return fresh;
  }

  it('snapshot + patches converge for everyone, including a late joiner and a learner who reconnects on the other node', async () => {
    const room = await seedClassroom(nodeA, { learners: 4 });
    const { classroomId } = room;
    const [l0, l1, l2, l3] = room.learners as [TestUser, TestUser, TestUser, TestUser];
    const host = await enter(nodeA, room.host, classroomId);
    const cohost = await enter(nodeA, room.cohost, classroomId);
    const early = await Promise.all([l0, l1].map((l) => enter(nodeB, l, classroomId)));

    await Promise.all([
      emitOk(early[0]!.socket, 'hand:raise', { classroomId }),
      emitOk(early[1]!.socket, 'hand:raise', { classroomId }),
      emitOk(host.socket, 'room:mute_all', { classroomId }),
      emitOk(cohost.socket, 'poll:create', { classroomId, question: 'Ready?', options: ['yes', 'no'] }),
    ]);
    const late = await enter(nodeB, l2, classroomId);
    await Promise.all([
      emitOk(early[0]!.socket, 'hand:lower', { classroomId }),
      emitOk(cohost.socket, 'stage:invite', { classroomId, userId: l1.user.id }),
      emitOk(late.socket, 'hand:raise', { classroomId }),
    ]);
    await emitOk(early[1]!.socket, 'stage:accept', { classroomId });

    // l1 drops off node B and comes back on node A.
    early[1]!.socket.close();
    const back = await enter(nodeA, l1, classroomId);
    const third = await enter(nodeB, l3, classroomId);
    await emitOk(host.socket, 'hand:dismiss', { classroomId, userId: l2.user.id });

    const clients = [host, cohost, early[0]!, late, back, third];
    const fresh = await expectConverged(clients, host, classroomId);
    expect(participantIn(fresh, l1.user.id)).toMatchObject({ role: 'speaker', present: true });
    expect(participantIn(fresh, l0.user.id)).toMatchObject({ role: 'learner', present: true, handRaisedAt: null });
    expect(participantIn(fresh, room.host.user.id)).toMatchObject({ role: 'host', present: true });
    expect(participantIn(fresh, room.cohost.user.id)).toMatchObject({ role: 'cohost', present: true });
    expect(fresh.handQueue).toEqual([]);
    expect(fresh.muteAll?.by).toBe(room.host.user.id);
    expect(fresh.polls.map((p) => p.question)).toEqual(['Ready?']);

    // Leaving shows on every replica, from either node.
    await emitOk(third.socket, 'classroom:leave', { classroomId });
    const after = await expectConverged([host, cohost, early[0]!, late, back], host, classroomId);
    expect(participantIn(after, l3.user.id)).toMatchObject({ present: false });
  });

  it('hand-raise order is identical for everyone under concurrent raises from both nodes', async () => {
    const room = await seedClassroom(nodeA, { learners: 6 });
    const { classroomId } = room;
    const host = await enter(nodeA, room.host, classroomId);
    const learners = await Promise.all(room.learners.map((l, i) => enter(i % 2 ? nodeA : nodeB, l, classroomId)));
    const acks = await Promise.all(learners.map((l) => emitOk(l.socket, 'hand:raise', { classroomId })));
    const byVersion = room.learners
      .map((l, i) => ({ id: l.user.id, version: acks[i]!.version }))
      .sort((a, b) => a.version - b.version)
      .map((x) => x.id);
    expect(new Set(acks.map((a) => a.version)).size).toBe(6);

    const fresh = await expectConverged([host, ...learners], host, classroomId);
    expect(fresh.handQueue).toEqual(byVersion);
    for (const client of [host, ...learners]) expect(client.replica.state!.handQueue).toEqual(byVersion);
  });

  it('refuses the room to the unregistered, the waitlisted, cancelled registrations and outsiders; they hear nothing', async () => {
    const room = await seedClassroom(nodeA, { learners: 2 });
    const { classroomId } = room;
    const host = await enter(nodeA, room.host, classroomId);
    const member = await enter(nodeB, room.learners[0]!, classroomId);
    await dbOf(nodeA)
      .updateTable('classroom_registrations')
      .set({ status: 'cancelled' })
      .where('classroom_id', '=', classroomId)
      .where('user_id', '=', room.learners[1]!.user.id)
      .execute();
    const refused = await Promise.all(
      [room.unregistered, room.waitlisted, room.learners[1]!, room.outsider].map(async (user) => {
        const socket = await open(nodeB, user);
        return { socket, heard: collect(socket, 'classroom:state'), ack: await emitAck(socket, 'classroom:join', { classroomId }) };
      }),
    );
    for (const { ack } of refused) expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(refused.map((r) => (r.ack.ok ? '' : r.ack.error.message))[0]).toBe('Register for this class to join it.');
    // Room actions too.
    expect(await emitAck(refused[0]!.socket, 'hand:raise', { classroomId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    await emitOk(host.socket, 'room:mute_all', { classroomId });
    const version = host.replica.version;
    await eventually(() => member.replica.version === version, 3000, 'the admitted learner on node B hears the change');
    await new Promise((r) => setTimeout(r, 200));
    for (const { heard } of refused) expect(heard).toEqual([]);
    const fresh = await freshState(host, classroomId);
    expect(fresh.participants.map((p) => p.user.id).sort()).toEqual([room.host, room.cohost, room.learners[0]!].map((u) => u.user.id).sort());
  });

  it('a private community hides the class from outsiders (not_found)', async () => {
    const room = await seedClassroom(nodeA, { learners: 1 });
    await dbOf(nodeA).updateTable('communities').set({ visibility: 'private' }).where('id', '=', room.communityId).execute();
    const socket = await open(nodeB, room.outsider);
    expect(await emitAck(socket, 'classroom:join', { classroomId: room.classroomId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('refuses host-only actions to learners (forbidden) and room actions before the class is live (conflict)', async () => {
    const room = await seedClassroom(nodeA, { learners: 2, status: 'scheduled' });
    const { classroomId } = room;
    const learnerSocket = await open(nodeB, room.learners[0]!);
    expect(await emitAck(learnerSocket, 'classroom:join', { classroomId })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    // The host and co-hosts may come in before the start, but the room does not run yet.
    const host = await enter(nodeA, room.host, classroomId);
    expect(host.replica.state!.status).toBe('scheduled');
    expect(await emitAck(host.socket, 'room:mute_all', { classroomId })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await emitAck(host.socket, 'poll:create', { classroomId, question: 'Early?', options: ['a', 'b'] })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });

    await dbOf(nodeA)
      .updateTable('classrooms')
      .set({ status: 'live', started_at: sql<Date>`now()` })
      .where('id', '=', classroomId)
      .execute();
    const learner = await enter(nodeB, room.learners[0]!, classroomId);
    const other = room.learners[1]!;
    const someone = { classroomId, userId: other.user.id };
    const hostOnly: [string, () => Promise<AckResult<unknown>>][] = [
      ['room:mute_all', () => emitAck(learner.socket, 'room:mute_all', { classroomId })],
      ['hand:dismiss', () => emitAck(learner.socket, 'hand:dismiss', someone)],
      ['stage:invite', () => emitAck(learner.socket, 'stage:invite', someone)],
      ['waiting:admit', () => emitAck(learner.socket, 'waiting:admit', someone)],
      ['waiting:deny', () => emitAck(learner.socket, 'waiting:deny', someone)],
      ['poll:create', () => emitAck(learner.socket, 'poll:create', { classroomId, question: 'Mine?', options: ['a', 'b'] })],
      ['stage:remove', () => emitAck(learner.socket, 'stage:remove', someone)],
    ];
    for (const [event, attempt] of hostOnly) {
      expect(await attempt(), event).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    expect(await emitAck(host.socket, 'hand:raise', { classroomId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // Registered but not in the room yet: nothing to act on.
    const outside = await open(nodeB, other);
    expect(await emitAck(outside, 'hand:raise', { classroomId })).toMatchObject({ ok: false, error: { code: 'forbidden', message: 'Join the class first.' } });
    expect(await emitAck(learner.socket, 'hand:raise', { classroomId: crypto.randomUUID() })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await emitAck(learner.socket, 'hand:raise', { classroomId: 'nope' })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });

  it('waiting room: the host admits one learner (who then joins) and turns another away for good', async () => {
    const room = await seedClassroom(nodeA, { learners: 2, waitingRoom: true });
    const { classroomId } = room;
    const [first, second] = room.learners as [TestUser, TestUser];
    const host = await enter(nodeA, room.host, classroomId);

    const firstClient = roomClient(await open(nodeB, first), classroomId);
    const admissions = collect(firstClient.socket, 'classroom:admission');
    const heardWhileWaiting = collect(firstClient.socket, 'classroom:state');
    expect(await firstClient.join()).toEqual({ admitted: false, waiting: true });
    await eventually(() => host.replica.state!.waiting.length === 1, 3000, 'the host sees the learner waiting');
    expect(host.replica.state!.waiting[0]!.user.id).toBe(first.user.id);
    // Not in the room: acting is refused until admitted.
    expect(await emitAck(firstClient.socket, 'hand:raise', { classroomId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    await emitOk(host.socket, 'waiting:admit', { classroomId, userId: first.user.id });
    await eventually(() => admissions.length === 1, 3000, 'classroom:admission on node B');
    expect(admissions).toEqual([{ classroomId, admitted: true }]);
    expect(heardWhileWaiting).toEqual([]);
    const joined = await firstClient.join();
    expect(joined.admitted).toBe(true);
    await eventually(() => participantIn(host.replica.state, first.user.id)?.present === true, 3000, 'admitted learner present');
    expect(host.replica.state!.waiting).toEqual([]);

    const secondSocket = await open(nodeB, second);
    const secondAdmissions = collect(secondSocket, 'classroom:admission');
    expect((await emitOk(secondSocket, 'classroom:join', { classroomId })).admitted).toBe(false);
    await eventually(() => host.replica.state!.waiting.length === 1, 3000, 'second learner waiting');
    await emitOk(host.socket, 'waiting:deny', { classroomId, userId: second.user.id });
    await eventually(() => secondAdmissions.length === 1, 3000, 'denial reaches node B');
    expect(secondAdmissions).toEqual([{ classroomId, admitted: false }]);
    expect(await emitAck(secondSocket, 'classroom:join', { classroomId })).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: 'The host did not admit you to this class.' },
    });

    // Turning away someone already admitted sends them out of the room.
    const removed = collect(firstClient.socket, 'classroom:removed');
    await emitOk(host.socket, 'waiting:deny', { classroomId, userId: first.user.id });
    await eventually(() => removed.length === 1, 3000, 'classroom:removed on node B');
    expect(removed).toEqual([{ classroomId, reason: 'denied' }]);
    await eventually(() => participantIn(host.replica.state, first.user.id) === undefined, 3000, 'off the roster');
    const version = firstClient.replica.version;
    await emitOk(host.socket, 'room:mute_all', { classroomId });
    await new Promise((r) => setTimeout(r, 200));
    expect(firstClient.replica.version).toBe(version);
    const fresh = await freshState(host, classroomId);
    expect(fresh.waiting).toEqual([]);
    expect(fresh.participants.map((p) => p.user.id)).not.toContain(first.user.id);
  });

  it('a dropped connection keeps the hand up; leaving lowers it; present until the last device goes', async () => {
    const room = await seedClassroom(nodeA, { learners: 1 });
    const { classroomId } = room;
    const learner = room.learners[0]!;
    const host = await enter(nodeA, room.host, classroomId);
    const phone = await enter(nodeB, learner, classroomId);
    const laptop = await enter(nodeA, learner, classroomId);
    await emitOk(phone.socket, 'hand:raise', { classroomId });
    await eventually(() => host.replica.state!.handQueue.length === 1, 3000, 'hand up');

    phone.socket.close();
    await emitOk(host.socket, 'room:mute_all', { classroomId });
    // Still present on the laptop.
    const fresh = await expectConverged([host, laptop], host, classroomId);
    expect(participantIn(fresh, learner.user.id)).toMatchObject({ present: true });

    laptop.socket.close();
    await eventually(() => participantIn(host.replica.state, learner.user.id)?.present === false, 3000, 'not present');
    expect(host.replica.state!.handQueue).toEqual([learner.user.id]);

    const again = await enter(nodeB, learner, classroomId);
    await eventually(() => participantIn(host.replica.state, learner.user.id)?.present === true, 3000, 'back');
    expect(again.replica.state!.handQueue).toEqual([learner.user.id]);
    await emitOk(again.socket, 'classroom:leave', { classroomId });
    await eventually(() => host.replica.state!.handQueue.length === 0, 3000, 'hand lowered on leave');
    expect(participantIn(host.replica.state, learner.user.id)).toMatchObject({ present: false, handRaisedAt: null });
  });

  it('stage works without video configured: no token is pushed', async () => {
    const room = await seedClassroom(nodeA, { learners: 1 });
    const { classroomId } = room;
    const learner = room.learners[0]!;
    const host = await enter(nodeA, room.host, classroomId);
    const client = await enter(nodeB, learner, classroomId);
    const tokens = collect(client.socket, 'classroom:token');
    await emitOk(client.socket, 'hand:raise', { classroomId });
    await emitOk(host.socket, 'stage:invite', { classroomId, userId: learner.user.id });
    await eventually(() => participantIn(client.replica.state, learner.user.id)?.stageInvited === true, 3000, 'invited');
    expect(client.replica.state!.handQueue).toEqual([]);
    await emitOk(client.socket, 'stage:accept', { classroomId });
    await eventually(() => participantIn(host.replica.state, learner.user.id)?.role === 'speaker', 3000, 'speaker');
    await emitOk(host.socket, 'stage:remove', { classroomId, userId: learner.user.id });
    await eventually(() => participantIn(host.replica.state, learner.user.id)?.role === 'learner', 3000, 'off stage');
    await new Promise((r) => setTimeout(r, 200));
    expect(tokens).toEqual([]);
  });
});
