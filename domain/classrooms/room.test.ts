import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../orm/db.ts';
import { attendanceOf, connectionCount, seedClassroom } from '../../test/classrooms.ts';
import type { TestUser } from '../../test/communityFactories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';
import { createMemoryPresenceStore } from '../presence/memoryStore.ts';
import { presenceTimings } from '../presence/store.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { manualClock } from '../shared/time.ts';
import { evictFromRoom } from './eviction.ts';
import { disconnectFromRoom, joinRoom, leaveRoom, sweepDeadConnections } from './room.ts';

/** Room operations on one node without Redis: the rules do not depend on the transport or the cluster. */
describe('classroom room operations', () => {
  const clock = manualClock('2026-12-01T18:00:00.000Z');
  let node: RunningNode;
  let deps: Deps;

  beforeAll(async () => {
    // The node's own periodic sweep would take the made-up node ids used here for dead ones: keep it out of the way.
    node = await startNode({ clock, env: { PRESENCE_SWEEP_INTERVAL_MS: '60000' } });
    deps = node.node.deps;
  });
  afterAll(async () => {
    await node?.close();
  });

  const actorOf = (user: TestUser): Actor => ({ userId: user.user.id, sessionId: user.user.id, role: 'user' });
  const versionOf = async (classroomId: string) =>
    (await db(deps.orm.em.fork()).selectFrom('classrooms').select('state_version').where('id', '=', classroomId).executeTakeFirstOrThrow()).state_version;

  it("a second device comes in without a new version, and stays recorded; presence ends with the last device's leave", async () => {
    const room = await seedClassroom(node, { learners: 1, startedAt: clock.now() });
    const learner = room.learners[0]!;
    const first = await joinRoom(deps, actorOf(learner), room.classroomId, { socketId: 'phone', nodeId: 'n1' });
    expect(first.result.admitted && first.result.state.version).toBe(1);
    const second = await joinRoom(deps, actorOf(learner), room.classroomId, { socketId: 'laptop', nodeId: 'n1' });
    expect(second.result.admitted && second.result.state.version).toBe(1);
    expect(await versionOf(room.classroomId)).toBe(1);
    expect(await connectionCount(node, room.classroomId, learner.user.id)).toBe(2);

    clock.advance(60_000);
    expect(await leaveRoom(deps, room.classroomId, 'phone')).toBe(1);
    expect((await attendanceOf(node, room.classroomId, learner.user.id))[0]!.leftAt).toBeNull();
    await disconnectFromRoom(deps, room.classroomId, ['laptop']);
    expect(await versionOf(room.classroomId)).toBe(2);
    expect(await attendanceOf(node, room.classroomId, learner.user.id)).toEqual([
      { joinedAt: '2026-12-01T18:00:00.000Z', leftAt: '2026-12-01T18:01:00.000Z' },
    ]);
    // Leaving a room one is not in changes nothing.
    expect(await leaveRoom(deps, room.classroomId, 'phone')).toBe(2);
  });

  it('refusals leave no trace: no connection, no version', async () => {
    const room = await seedClassroom(node, { learners: 1 });
    await expect(joinRoom(deps, actorOf(room.waitlisted), room.classroomId, { socketId: 'w', nodeId: 'n1' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(joinRoom(deps, actorOf(room.outsider), room.classroomId, { socketId: 'o', nodeId: 'n1' })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await versionOf(room.classroomId)).toBe(0);
    expect(await connectionCount(node, room.classroomId, room.waitlisted.user.id)).toBe(0);
  });

  it('sweeps only the connections of nodes the presence store does not know to be alive', async () => {
    const presence = createMemoryPresenceStore(presenceTimings({}));
    await presence.heartbeat('alive-node', []);
    const room = await seedClassroom(node, { learners: 2, startedAt: clock.now() });
    const [kept, swept] = room.learners as [TestUser, TestUser];
    await joinRoom(deps, actorOf(kept), room.classroomId, { socketId: 'k', nodeId: 'alive-node' });
    await joinRoom(deps, actorOf(swept), room.classroomId, { socketId: 's', nodeId: 'gone-node' });
    clock.advance(30_000);
    const dead = await sweepDeadConnections(deps, (ids) => presence.aliveNodes(ids));
    expect(dead).toContain('gone-node');
    expect(dead).not.toContain('alive-node');
    expect(await connectionCount(node, room.classroomId, kept.user.id)).toBe(1);
    expect(await connectionCount(node, room.classroomId, swept.user.id)).toBe(0);
    expect((await attendanceOf(node, room.classroomId, swept.user.id))[0]!.leftAt).toBe(clock.now().toISOString());
  });

  it('an evicted learner is off the roster and out of the class chat', async () => {
    const room = await seedClassroom(node, { learners: 1, startedAt: clock.now() });
    const learner = room.learners[0]!;
    await joinRoom(deps, actorOf(learner), room.classroomId, { socketId: 'e', nodeId: 'n1' });
    const q = db(deps.orm.em.fork());
    const inChat = async () =>
      (await q.selectFrom('channel_members').select('user_id').where('channel_id', '=', room.channelId).where('user_id', '=', learner.user.id).execute()).length > 0;
    expect(await inChat()).toBe(true);
    expect(await evictFromRoom(deps, room.classroomId, learner.user.id, 'unregistered')).toBe(true);
    expect(await inChat()).toBe(false);
    expect(await connectionCount(node, room.classroomId, learner.user.id)).toBe(0);
    expect(
      await q.selectFrom('classroom_participants').select('user_id').where('classroom_id', '=', room.classroomId).where('user_id', '=', learner.user.id).execute(),
    ).toEqual([]);
    // Nothing left to take away.
    expect(await evictFromRoom(deps, room.classroomId, learner.user.id, 'unregistered')).toBe(false);
  });
});
