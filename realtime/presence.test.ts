import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresenceList, PresenceStatus } from '../contracts/chat.ts';
import type { ErrorResponse } from '../contracts/errors.ts';
import { seedCommunity, seedWorld } from '../test/communities.ts';
import {
  call,
  collect,
  connectSocket,
  emitAck,
  emitRaw,
  eventually,
  nextEvent,
  registerUser,
  registerUsers,
  type ClientSocket,
  type EventPayload,
  type TestUser,
} from '../test/factories.ts';
import { startNode, type RunningNode } from '../test/nodes.ts';

type Update = EventPayload<'presence:updated'>;
// Wide enough that many sockets reconnecting at once fit in it on a busy machine (the suite runs three files at once).
const COALESCE_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('presence on one node (in-process store)', () => {
  let node: RunningNode;
  const opened: ClientSocket[] = [];

  beforeAll(async () => {
    node = await startNode({ env: { PRESENCE_COALESCE_MS: String(COALESCE_MS) } });
  });
  afterAll(async () => {
    for (const socket of opened) socket.close();
    await node?.close();
  });

  async function open(token: string) {
    const socket = await connectSocket(node.url, token);
    opened.push(socket);
    return socket;
  }

  /** Users (registered over the API) who are all members of one fresh community. */
  async function community(size: number) {
    const users = await registerUsers(node.url, size);
    const { communityId } = await seedCommunity(node, { members: users.map((u) => ({ userId: u.user.id })), channels: [] });
    return { communityId, users };
  }

  const presenceOf = (user: TestUser | null, communityId: string) => call<PresenceList>(node, 'GET', `/communities/${communityId}/presence`, user);

  async function statusOver(user: TestUser, communityId: string, userId: string): Promise<PresenceStatus> {
    const res = await presenceOf(user, communityId);
    expect(res.status).toBe(200);
    return res.body.data.find((e) => e.userId === userId)?.status ?? 'offline';
  }

  /** The next presence:updated about `userId` seen by `observer`. */
  function nextUpdateAbout(observer: ClientSocket, userId: string, timeoutMs = 3000): Promise<Update> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no presence:updated about ${userId} within ${timeoutMs} ms`)), timeoutMs);
      const listener = (update: Update) => {
        if (update.userId !== userId) return;
        clearTimeout(timer);
        observer.off('presence:updated', listener);
        resolve(update);
      };
      observer.on('presence:updated', listener);
    });
  }

  it('someone who joins a community while connected hears its presence at once, without reconnecting', async () => {
    const { communityId, member } = await seedWorld(node, { people: { member: 'member' } });
    const newcomer = await registerUser(node.url);
    const newcomerSocket = await open(newcomer.accessToken);
    const joined = await call(node, 'POST', `/communities/${communityId}/join`, newcomer);
    expect(joined.status).toBe(200);
    const heard = nextUpdateAbout(newcomerSocket, member.user.id);
    await open(member.accessToken);
    expect(await heard).toEqual({ userId: member.user.id, status: 'online' });
  });

  it('a member sees another member come online, by event and over REST; a non-member gets 404', async () => {
    const { communityId, alice, bob } = await seedWorld(node, { people: { alice: 'member', bob: 'member' } });
    const outsider = await registerUser(node.url);
    const aliceSocket = await open(alice.accessToken);
    const outsiderSocket = await open(outsider.accessToken);
    const outsiderHeard = collect(outsiderSocket, 'presence:updated');
    expect(await statusOver(alice, communityId, bob.user.id)).toBe('offline');

    const bobOnline = nextUpdateAbout(aliceSocket, bob.user.id);
    await open(bob.accessToken);
    expect(await bobOnline).toEqual({ userId: bob.user.id, status: 'online' });
    const listed = await presenceOf(alice, communityId);
    expect(listed.body.data).toEqual(
      expect.arrayContaining([
        { userId: alice.user.id, status: 'online' },
        { userId: bob.user.id, status: 'online' },
      ]),
    );
    expect(listed.body.data).toHaveLength(2);

    const refused = await call<ErrorResponse>(node, 'GET', `/communities/${communityId}/presence`, outsider);
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('not_found');
    expect((await presenceOf(alice, crypto.randomUUID())).status).toBe(404);
    expect((await presenceOf(alice, 'not-a-uuid')).status).toBe(400);
    expect((await presenceOf(null, communityId)).status).toBe(401);
    // Presence of members never reaches sockets outside the community.
    expect(outsiderHeard.filter((u) => u.userId !== outsider.user.id)).toEqual([]);
  });

  it('presence:set away and dnd are announced and listed; the same status again announces nothing', async () => {
    const { communityId, alice, bob } = await seedWorld(node, { people: { alice: 'member', bob: 'member' } });
    const aliceSocket = await open(alice.accessToken);
    const bobSocket = await open(bob.accessToken);
    await eventually(async () => (await statusOver(alice, communityId, bob.user.id)) === 'online');
    await sleep(COALESCE_MS * 2); // let the connection announcements pass
    const heard = collect(aliceSocket, 'presence:updated');

    const away = nextUpdateAbout(aliceSocket, bob.user.id);
    expect(await emitAck(bobSocket, 'presence:set', { status: 'away' })).toEqual({ ok: true, data: { status: 'away' } });
    expect(await away).toEqual({ userId: bob.user.id, status: 'away' });
    expect(await statusOver(alice, communityId, bob.user.id)).toBe('away');

    const dnd = nextUpdateAbout(aliceSocket, bob.user.id);
    await emitAck(bobSocket, 'presence:set', { status: 'dnd' });
    expect(await dnd).toEqual({ userId: bob.user.id, status: 'dnd' });
    expect(await statusOver(alice, communityId, bob.user.id)).toBe('dnd');

    expect(await emitAck(bobSocket, 'presence:set', { status: 'dnd' })).toMatchObject({ ok: true });
    for (const bad of [{ status: 'offline' }, { status: 'busy' }, {}, { status: 'away', extra: 1 }]) {
      expect(await emitRaw(bobSocket, 'presence:set', bad)).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    }
    await sleep(COALESCE_MS * 2);
    expect(heard.filter((u) => u.userId === bob.user.id)).toEqual([
      { userId: bob.user.id, status: 'away' },
      { userId: bob.user.id, status: 'dnd' },
    ]);
  });

  it('with two devices, closing one keeps the user online; closing the last makes them offline', async () => {
    const { communityId, alice, bob } = await seedWorld(node, { people: { alice: 'member', bob: 'member' } });
    const aliceSocket = await open(alice.accessToken);
    const heard = collect(aliceSocket, 'presence:updated');
    const phone = await open(bob.accessToken);
    const laptop = await open(bob.accessToken);
    await eventually(() => heard.some((u) => u.userId === bob.user.id), 3000, 'bob online');

    phone.close();
    await sleep(COALESCE_MS * 2);
    expect(await statusOver(alice, communityId, bob.user.id)).toBe('online');

    const offline = nextUpdateAbout(aliceSocket, bob.user.id);
    laptop.close();
    expect(await offline).toEqual({ userId: bob.user.id, status: 'offline' });
    expect(await statusOver(alice, communityId, bob.user.id)).toBe('offline');
    expect(heard.filter((u) => u.userId === bob.user.id).map((u) => u.status)).toEqual(['online', 'offline']);
  });

  it("the user's other devices hear their own status change", async () => {
    const { carol } = await seedWorld(node, { people: { carol: 'member' } });
    const phone = await open(carol.accessToken);
    const laptop = await open(carol.accessToken);
    await sleep(COALESCE_MS * 2);
    const onLaptop = nextEvent(laptop, 'presence:updated');
    await emitAck(phone, 'presence:set', { status: 'dnd' });
    expect(await onLaptop).toEqual({ userId: carol.user.id, status: 'dnd' });
  });

  describe('coalescing', () => {
    it('a quick reconnect (disconnect and connect within one window) announces nothing', async () => {
      const { alice, bob } = await seedWorld(node, { people: { alice: 'member', bob: 'member' } });
      const aliceSocket = await open(alice.accessToken);
      const bobOnline = nextUpdateAbout(aliceSocket, bob.user.id);
      const first = await open(bob.accessToken);
      await bobOnline;
      await sleep(COALESCE_MS);
      const heard = collect(aliceSocket, 'presence:updated');

      first.close();
      await open(bob.accessToken);
      await sleep(COALESCE_MS * 3);
      expect(heard.filter((u) => u.userId === bob.user.id)).toEqual([]);
    });

    it('many users connecting at once produce at most one update each; reconnecting all at once produces none', async () => {
      const N = 25;
      const { users } = await community(N + 1);
      const [observer, ...others] = users as [TestUser, ...TestUser[]];
      const observerSocket = await open(observer.accessToken);
      await sleep(COALESCE_MS * 2);
      const heard = collect(observerSocket, 'presence:updated');

      const sockets = await Promise.all(others.map((u) => open(u.accessToken)));
      await eventually(() => new Set(heard.map((u) => u.userId)).size >= N, 5000, 'everyone online');
      await sleep(COALESCE_MS * 2);
      expect(heard.length).toBeLessThanOrEqual(N);
      expect(new Set(heard.map((u) => u.userId))).toEqual(new Set(others.map((u) => u.user.id)));
      expect(heard.every((u) => u.status === 'online')).toBe(true);

      heard.length = 0;
      for (const socket of sockets) socket.close();
      await Promise.all(others.map((u) => open(u.accessToken)));
      await sleep(COALESCE_MS * 3);
      expect(heard).toEqual([]);
    });
  });
});
