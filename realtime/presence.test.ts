import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresenceList, PresenceStatus } from '../contracts/chat.ts';
import type { ErrorResponse } from '../contracts/errors.ts';
import { seedCommunity, seedWorld } from '../test/communities.ts';
import {
  call,
  collect,
  connectSocket,
  emitAck,
  emitOk,
  emitRaw,
  eventually,
  nextEvent,
  registerUser,
  registerUsers,
  type ClientSocket,
  type EventPayload,
  type TestUser,
  watchPresence,
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

  it('someone who joins a community while connected may follow its members at once, without reconnecting', async () => {
    const { communityId, member } = await seedWorld(node, { people: { member: 'member' } });
    const newcomer = await registerUser(node.url);
    const newcomerSocket = await open(newcomer.accessToken);
    await open(member.accessToken);
    // A stranger's presence is not the newcomer's to follow yet: the answer says nothing about them.
    expect(await watchPresence(newcomerSocket, [member])).toEqual({ data: [] });
    const joined = await call(node, 'POST', `/communities/${communityId}/join`, newcomer);
    expect(joined.status).toBe(200);
    await eventually(async () => (await watchPresence(newcomerSocket, [member])).data.length === 1, 3000, 'the member to be listed');
    expect(await watchPresence(newcomerSocket, [member])).toEqual({ data: [{ userId: member.user.id, status: 'online' }] });
  });

  it('a member sees another member come online, by event and over REST; a non-member gets 404', async () => {
    const { communityId, alice, bob } = await seedWorld(node, { people: { alice: 'member', bob: 'member' } });
    const outsider = await registerUser(node.url);
    const aliceSocket = await open(alice.accessToken);
    const outsiderSocket = await open(outsider.accessToken);
    const outsiderHeard = collect(outsiderSocket, 'presence:updated');
    expect(await statusOver(alice, communityId, bob.user.id)).toBe('offline');
    expect(await watchPresence(aliceSocket, [bob])).toEqual({ data: [] });
    // Asking to follow someone you share no community with is answered as if they were offline, and follows nothing.
    expect(await watchPresence(outsiderSocket, [bob, alice])).toEqual({ data: [] });

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
    expect(await watchPresence(aliceSocket, [bob])).toEqual({ data: [{ userId: bob.user.id, status: 'online' }] });
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
    await watchPresence(aliceSocket, [bob]);
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

  it('a socket hears only the people it follows, from the moment it asks until it stops', async () => {
    const { alice, bob, carol } = await seedWorld(node, { people: { alice: 'member', bob: 'member', carol: 'member' } });
    const aliceSocket = await open(alice.accessToken);
    const heard = collect(aliceSocket, 'presence:updated');
    expect(await watchPresence(aliceSocket, [bob])).toEqual({ data: [] });
    const bobSocket = await open(bob.accessToken);
    const carolSocket = await open(carol.accessToken);
    await eventually(() => heard.some((u) => u.userId === bob.user.id), 3000, 'bob online');
    // Carol is in the same community and online, but alice's tab does not show her.
    await emitOk(carolSocket, 'presence:set', { status: 'away' });
    await sleep(COALESCE_MS * 2);
    expect(heard.filter((u) => u.userId !== alice.user.id)).toEqual([{ userId: bob.user.id, status: 'online' }]);

    // Following carol now answers with her current status; stopping to follow bob silences him.
    expect(await watchPresence(aliceSocket, [carol], [bob])).toEqual({ data: [{ userId: carol.user.id, status: 'away' }] });
    heard.length = 0;
    await emitOk(bobSocket, 'presence:set', { status: 'dnd' });
    await emitOk(carolSocket, 'presence:set', { status: 'online' });
    await eventually(() => heard.some((u) => u.userId === carol.user.id), 3000, 'carol back online');
    await sleep(COALESCE_MS * 2);
    expect(heard.filter((u) => u.userId !== alice.user.id)).toEqual([{ userId: carol.user.id, status: 'online' }]);
  });

  it('refuses malformed or oversized watch lists with invalid_input; following yourself is a no-op', async () => {
    const { alice } = await seedWorld(node, { people: { alice: 'member' } });
    const socket = await open(alice.accessToken);
    const many = Array.from({ length: 201 }, () => crypto.randomUUID());
    for (const bad of [{ add: many }, { add: ['not-a-uuid'] }, { add: 'x' }, { add: [], extra: 1 }, null]) {
      expect(await emitRaw(socket, 'presence:watch', bad)).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    }
    expect(await watchPresence(socket, [alice])).toEqual({ data: [] });
  });

  it('leaving a community stops following through it, both ways, and says so; shared elsewhere, following again works', async () => {
    const { communityId, alice, bob, carol } = await seedWorld(node, { people: { alice: 'member', bob: 'member', carol: 'member' } });
    await seedCommunity(node, { members: [{ userId: alice.user.id }, { userId: carol.user.id }], channels: [] });
    const aliceSocket = await open(alice.accessToken);
    const bobSocket = await open(bob.accessToken);
    const carolSocket = await open(carol.accessToken);
    await watchPresence(aliceSocket, [bob, carol]);
    await watchPresence(bobSocket, [alice]);
    await watchPresence(carolSocket, [alice]);
    await sleep(COALESCE_MS * 2);
    const aliceHeard = collect(aliceSocket, 'presence:updated');
    const bobHeard = collect(bobSocket, 'presence:updated');
    const aliceAsked = nextEvent(aliceSocket, 'presence:rewatch');
    const bobAsked = nextEvent(bobSocket, 'presence:rewatch');

    expect((await call(node, 'POST', `/communities/${communityId}/leave`, bob)).status).toBe(204);
    expect(await aliceAsked).toEqual({ userIds: [bob.user.id] });
    expect(await bobAsked).toEqual({ userIds: null });
    // Asking again is answered as for a stranger.
    expect(await watchPresence(aliceSocket, [bob])).toEqual({ data: [] });
    expect(await watchPresence(bobSocket, [alice])).toEqual({ data: [] });
    await emitOk(bobSocket, 'presence:set', { status: 'dnd' });
    await emitOk(aliceSocket, 'presence:set', { status: 'away' });
    await sleep(COALESCE_MS * 2);
    expect(aliceHeard.filter((u) => u.userId === bob.user.id)).toEqual([]);
    expect(bobHeard.filter((u) => u.userId === alice.user.id)).toEqual([]);

    // Alice and carol still share a community: carol still follows alice.
    const carolHeard = collect(carolSocket, 'presence:updated');
    await emitOk(aliceSocket, 'presence:set', { status: 'online' });
    await eventually(() => carolHeard.some((u) => u.userId === alice.user.id && u.status === 'online'), 3000, 'carol to hear alice');
  });

  describe('coalescing', () => {
    it('a quick reconnect (disconnect and connect within one window) announces nothing', async () => {
      const { alice, bob } = await seedWorld(node, { people: { alice: 'member', bob: 'member' } });
      const aliceSocket = await open(alice.accessToken);
      await watchPresence(aliceSocket, [bob]);
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

    // Registering 26 accounts (password hashing) alone takes seconds on a busy machine.
    it('many users connecting at once produce at most one update each; reconnecting all at once produces none', { timeout: 60_000 }, async () => {
      const N = 25;
      const { users } = await community(N + 1);
      const [observer, ...others] = users as [TestUser, ...TestUser[]];
      const observerSocket = await open(observer.accessToken);
      await watchPresence(observerSocket, others);
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
