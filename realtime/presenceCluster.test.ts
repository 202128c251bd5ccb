import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PresenceList, PresenceStatus } from '../contracts/chat.ts';
import { seedCommunity, seedWorld } from '../test/communities.ts';
import {
  call,
  collect,
  connectSocket,
  emitAck,
  eventually,
  registerUsers,
  watchPresence,
  type ClientSocket,
  type EventPayload,
  type TestUser,
} from '../test/factories.ts';
import { startNode, type RunningNode } from '../test/nodes.ts';

type Update = EventPayload<'presence:updated'>;
// Wide enough that twenty sockets reconnecting to the other node fit in it on a busy machine (the suite runs three
// files at once): at 1.6 s a full run saw three of them flap offline and online.
const COALESCE_MS = 2500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!inject('redisUrl'))('presence across a cluster (skipped without Redis)', () => {
  const clusterId = randomBytes(6).toString('hex');
  const env = { PRESENCE_COALESCE_MS: String(COALESCE_MS) };
  let nodeA: RunningNode;
  let nodeB: RunningNode;
  const opened: ClientSocket[] = [];

  beforeAll(async () => {
    [nodeA, nodeB] = await Promise.all([startNode({ clusterId, redis: true, env }), startNode({ clusterId, redis: true, env })]);
  });
  afterAll(async () => {
    for (const socket of opened) socket.close();
    await Promise.all([nodeA?.close(), nodeB?.close()]);
  });

  async function open(node: RunningNode, token: string) {
    const socket = await connectSocket(node.url, token);
    opened.push(socket);
    return socket;
  }

  async function community(size: number) {
    const users = await registerUsers(nodeA.url, size);
    const { communityId } = await seedCommunity(nodeA, { members: users.map((u) => ({ userId: u.user.id })), channels: [] });
    return { communityId, users };
  }

  async function statusOver(node: RunningNode, user: TestUser, communityId: string, userId: string): Promise<PresenceStatus> {
    const res = await call<PresenceList>(node, 'GET', `/communities/${communityId}/presence`, user);
    expect(res.status).toBe(200);
    return res.body.data.find((e) => e.userId === userId)?.status ?? 'offline';
  }

  const about = (heard: Update[], userId: string) => heard.filter((u) => u.userId === userId).map((u) => u.status);

  it("a member's socket on node B hears of a user on node A, and REST on node B agrees", async () => {
    const { communityId, observer, x } = await seedWorld(nodeA, { people: { observer: 'member', x: 'member' } });
    const observerOnB = await open(nodeB, observer.accessToken);
    await watchPresence(observerOnB, [x]);
    const heard = collect(observerOnB, 'presence:updated');

    const xOnA = await open(nodeA, x.accessToken);
    await eventually(() => about(heard, x.user.id).length > 0, 3000, 'online on node B');
    expect(heard).toContainEqual({ userId: x.user.id, status: 'online' });
    expect(await statusOver(nodeB, observer, communityId, x.user.id)).toBe('online');

    await emitAck(xOnA, 'presence:set', { status: 'dnd' });
    await eventually(() => about(heard, x.user.id).length > 1, 3000, 'dnd on node B');
    expect(await statusOver(nodeB, observer, communityId, x.user.id)).toBe('dnd');

    xOnA.close();
    await eventually(() => about(heard, x.user.id).length > 2, 3000, 'offline on node B');
    expect(about(heard, x.user.id)).toEqual(['online', 'dnd', 'offline']);
    expect(await statusOver(nodeB, observer, communityId, x.user.id)).toBe('offline');
  });

  it('moving from node A to node B within one window announces nothing', async () => {
    const { observer, x } = await seedWorld(nodeA, { people: { observer: 'member', x: 'member' } });
    const observerOnB = await open(nodeB, observer.accessToken);
    await watchPresence(observerOnB, [x]);
    const heard = collect(observerOnB, 'presence:updated');
    const xOnA = await open(nodeA, x.accessToken);
    await eventually(() => about(heard, x.user.id).length > 0, 3000, 'online');
    await sleep(COALESCE_MS);

    xOnA.close();
    await open(nodeB, x.accessToken);
    await sleep(COALESCE_MS * 3);
    expect(about(heard, x.user.id)).toEqual(['online']);
  });

  // Seven coalescing windows of waiting plus 21 registrations (password hashing): over 30 s when the suite is busy.
  it('many users connecting at once over both nodes produce at most one update each at an observer', { timeout: 90_000 }, async () => {
    const N = 20;
    const { users } = await community(N + 1);
    const [observer, ...others] = users as [TestUser, ...TestUser[]];
    const observerOnB = await open(nodeB, observer.accessToken);
    await watchPresence(observerOnB, others);
    await sleep(COALESCE_MS * 2);
    const heard = collect(observerOnB, 'presence:updated');

    const sockets = await Promise.all(others.map((u, i) => open(i % 2 ? nodeA : nodeB, u.accessToken)));
    await eventually(() => new Set(heard.map((u) => u.userId)).size >= N, 15_000, 'everyone online');
    await sleep(COALESCE_MS * 2);
    expect(heard.length).toBeLessThanOrEqual(N);
    expect(heard.every((u) => u.status === 'online')).toBe(true);

    // Everyone reconnects at once, to the other node.
    heard.length = 0;
    for (const socket of sockets) socket.close();
    await Promise.all(others.map((u, i) => open(i % 2 ? nodeB : nodeA, u.accessToken)));
    await sleep(COALESCE_MS * 3);
    expect(heard).toEqual([]);
  });

  it('leaving a community on node A stops what the leaver follows on node B and who follows them there', async () => {
    const { communityId, observer, x } = await seedWorld(nodeA, { people: { observer: 'member', x: 'member' } });
    const observerOnB = await open(nodeB, observer.accessToken);
    const xOnB = await open(nodeB, x.accessToken);
    await watchPresence(observerOnB, [x]);
    await watchPresence(xOnB, [observer]);
    await sleep(COALESCE_MS);
    // What each heard up to the moment it was told to watch again: the coalesced announcement of the other's arrival
    // may still come before it (they shared the community then); after it, nothing may.
    const observerHeard = collect(observerOnB, 'presence:updated');
    const xHeard = collect(xOnB, 'presence:updated');
    const askedAt = (socket: typeof xOnB, heard: unknown[]) =>
      new Promise<{ payload: unknown; heardBefore: number }>((resolve) =>
        socket.once('presence:rewatch', (payload) => resolve({ payload, heardBefore: heard.length })),
      );
    const observerAsked = askedAt(observerOnB, observerHeard);
    const xAsked = askedAt(xOnB, xHeard);

    expect((await call(nodeA, 'POST', `/communities/${communityId}/leave`, x)).status).toBe(204);
    const [observerTold, xTold] = await Promise.all([observerAsked, xAsked]);
    expect(observerTold.payload).toEqual({ userIds: [x.user.id] });
    expect(xTold.payload).toEqual({ userIds: null });
    await emitAck(xOnB, 'presence:set', { status: 'dnd' });
    await emitAck(observerOnB, 'presence:set', { status: 'away' });
    await sleep(COALESCE_MS * 2);
    expect(about(observerHeard.slice(observerTold.heardBefore), x.user.id)).toEqual([]);
    expect(about(xHeard.slice(xTold.heardBefore), observer.user.id)).toEqual([]);
  });

  it("a node shutting down gracefully removes its connections: users with no other device go offline at once", async () => {
    const nodeC = await startNode({ clusterId, redis: true, env });
    try {
      const { communityId, observer, onlyOnC, alsoOnA } = await seedWorld(nodeA, { people: { observer: 'member', onlyOnC: 'member', alsoOnA: 'member' } });
      const observerOnB = await open(nodeB, observer.accessToken);
      await watchPresence(observerOnB, [onlyOnC, alsoOnA]);
      const heard = collect(observerOnB, 'presence:updated');
      await open(nodeC, onlyOnC.accessToken);
      await open(nodeC, alsoOnA.accessToken);
      await open(nodeA, alsoOnA.accessToken);
      await eventually(() => about(heard, onlyOnC.user.id).length > 0 && about(heard, alsoOnA.user.id).length > 0, 3000, 'online');

      const closing = Date.now();
      await nodeC.close();
      await eventually(() => about(heard, onlyOnC.user.id).length > 1, 3000, 'offline after shutdown');
      // Announced during shutdown, not after a liveness timeout.
      expect(Date.now() - closing).toBeLessThan(3000);
      expect(about(heard, onlyOnC.user.id)).toEqual(['online', 'offline']);
      await sleep(COALESCE_MS * 2);
      expect(about(heard, alsoOnA.user.id)).toEqual(['online']);
      expect(await statusOver(nodeB, observer, communityId, onlyOnC.user.id)).toBe('offline');
      expect(await statusOver(nodeB, observer, communityId, alsoOnA.user.id)).toBe('online');
    } finally {
      await nodeC.close();
    }
  });
});
