import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, collect, connectSocket, emitAck, emitOk, eventually, type ClientSocket, type TestUser } from '../test/factories.ts';
import { moderationWorld, reportAs, reportedPerson, seedMessage, type ModerationWorld } from '../test/moderationFactories.ts';
import { startCluster, type RunningNode } from '../test/nodes.ts';

/** The promise made to moderators: a ban takes effect on every node within a second of the answer. */
const BAN_BUDGET_MS = 1000;

describe.skipIf(!inject('redisUrl'))('moderation across two nodes (one Redis)', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let nodeA: RunningNode;
  let nodeB: RunningNode;
  let world: ModerationWorld;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    cluster = await startCluster(2);
    [nodeA, nodeB] = cluster.nodes as [RunningNode, RunningNode];
    world = await moderationWorld(nodeA);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await cluster?.close();
  });

  async function socketOn(node: RunningNode, user: TestUser) {
    const socket = await connectSocket(node.url, user.accessToken);
    sockets.push(socket);
    return socket;
  }

  async function consoleOn(node: RunningNode, user: TestUser) {
    const socket = await socketOn(node, user);
    await emitOk(socket, 'moderation:subscribe', { communityId: world.communityId });
    return socket;
  }

  it('a report on node A reaches the console on node B live; a claim on A shows as claimed on B', async () => {
    const queue = await consoleOn(nodeB, world.admin);
    const created = collect(queue, 'moderation:case_created');
    const updated = collect(queue, 'moderation:case_updated');
    const messageId = await seedMessage(nodeA, world.channelId, world.author.user.id, 'live report');
    await reportAs(nodeA, world.member, { targetType: 'message', targetId: messageId });
    await eventually(() => created.some((k) => k.target.id === messageId), 2000, 'case_created on node B');
    const caseId = created.find((k) => k.target.id === messageId)!.id;
    expect((await call(nodeA, 'POST', `/moderation/cases/${caseId}/claim`, world.moderator)).status).toBe(200);
    await eventually(
      () => updated.some((k) => k.id === caseId && k.status === 'claimed' && k.claimedBy?.id === world.moderator.user.id),
      2000,
      'case_updated (claimed) on node B',
    );
  });

  it("a ban on node A takes the member out of the community's rooms on node B within a second, and keeps them out", async () => {
    const { caseId, person } = await reportedPerson(nodeA, world);
    const personOnB = await socketOn(nodeB, person);
    await emitOk(personOnB, 'channel:join', { channelId: world.channelId });
    const ownerOnA = await socketOn(nodeA, world.owner);
    await emitOk(ownerOnA, 'channel:join', { channelId: world.channelId });
    const removedFromCommunity = collect(personOnB, 'community:removed');
    const removedFromChannels = collect(personOnB, 'channel:removed');
    const messages = collect(personOnB, 'message:created');

    const res = await call(nodeA, 'POST', `/moderation/cases/${caseId}/actions`, world.moderator, { action: 'ban', reason: 'spam bot' });
    expect(res.status).toBe(200);
    await eventually(
      () => removedFromCommunity.length === 1 && removedFromChannels.some((e) => e.channelId === world.channelId),
      BAN_BUDGET_MS,
      'community:removed and channel:removed on node B',
    );
    expect(removedFromCommunity[0]).toEqual({ communityId: world.communityId, reason: 'spam bot', ban: true, rejoinAfter: null });

    // Out of the room: the owner's next message on node A does not reach them, and nothing lets them back in.
    const ownerSees = collect(ownerOnA, 'message:created');
    await emitOk(ownerOnA, 'message:send', { channelId: world.channelId, clientId: `after-ban-${person.user.id}`, body: 'not for the banned' });
    await eventually(() => ownerSees.length === 1, 2000, 'the owner sees their own message');
    await new Promise((r) => setTimeout(r, 200));
    expect(messages).toEqual([]);
    expect(await emitAck(personOnB, 'channel:join', { channelId: world.channelId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect((await call(nodeB, 'POST', `/communities/${world.communityId}/join`, person)).status).toBe(403);
  });

  it('a moderator demoted or removed on node A stops receiving the queue on node B', async () => {
    const control = await consoleOn(nodeB, world.admin);
    const demoted = (await reportedPerson(nodeA, world, 'moderator')).person;
    const removed = (await reportedPerson(nodeA, world, 'moderator')).person;
    const demotedConsole = await consoleOn(nodeB, demoted);
    const removedConsole = await consoleOn(nodeB, removed);
    const demotedSees = collect(demotedConsole, 'moderation:case_created');
    const removedSees = collect(removedConsole, 'moderation:case_created');
    const controlSees = collect(control, 'moderation:case_created');

    const patch = await call(nodeA, 'PATCH', `/communities/${world.communityId}/members/${demoted.user.id}`, world.owner, { role: 'member' });
    expect(patch.status).toBe(200);
    expect((await call(nodeA, 'DELETE', `/communities/${world.communityId}/members/${removed.user.id}`, world.owner)).status).toBe(204);

    const messageId = await seedMessage(nodeA, world.channelId, world.author.user.id, 'after the demotion');
    await reportAs(nodeA, world.member, { targetType: 'message', targetId: messageId });
    await eventually(() => controlSees.some((k) => k.target.id === messageId), 2000, 'the remaining moderator hears of the case');
    await new Promise((r) => setTimeout(r, 200));
    expect(demotedSees.filter((k) => k.target.id === messageId)).toEqual([]);
    expect(removedSees.filter((k) => k.target.id === messageId)).toEqual([]);
    expect(await emitAck(demotedConsole, 'moderation:subscribe', { communityId: world.communityId })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it("suspending an account on node A cuts its sockets on node B", async () => {
    const { person } = await reportedPerson(nodeA, world);
    const onB = await socketOn(nodeB, person);
    const revoked = collect(onB, 'session:revoked');
    let disconnected = false;
    onB.on('disconnect', () => (disconnected = true));
    expect((await call(nodeA, 'POST', `/users/${person.user.id}/suspend`, world.platformAdmin, { reason: 'fraud' })).status).toBe(200);
    await eventually(() => disconnected, 2000, 'the socket on node B is cut');
    expect(revoked).toEqual([expect.objectContaining({ reason: 'revoked' })]);
    await expect(connectSocket(nodeB.url, person.accessToken)).rejects.toThrow();
  });

  it('a timeout set on node A is enforced when the person writes on node B', async () => {
    const { caseId, person } = await reportedPerson(nodeA, world);
    const onB = await socketOn(nodeB, person);
    const timedOut = collect(onB, 'moderation:timed_out');
    const res = await call(nodeA, 'POST', `/moderation/cases/${caseId}/actions`, world.moderator, { action: 'timeout', minutes: 15, reason: 'cool off' });
    expect(res.status).toBe(200);
    await eventually(() => timedOut.length === 1, 2000, 'moderation:timed_out on node B');
    const send = await emitAck(onB, 'message:send', { channelId: world.channelId, clientId: `timed-out-${person.user.id}`, body: 'let me speak' });
    expect(send).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});
