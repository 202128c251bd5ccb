import { describe, expect, inject, it } from 'vitest';
import type { ChannelEnvelope } from '../../contracts/communities.ts';
import { rooms } from '../../contracts/realtime.ts';
import type { Logger } from '../../orm/database.ts';
import { createEventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';
import { addChannelMemberAs, addMemberAs, createChannelAs, createCommunityAs } from '../../test/communityFactories.ts';
import { twoNodes } from '../../test/cluster.ts';
import { call, collect, emitAck, emitOk, eventually, ok, registerUser } from '../../test/factories.ts';
import { registerCommunityClientEvents } from './clientEvents.ts';

/** How long a removal may take to reach the removed user's socket on the other node, from the HTTP response. */
const REMOVAL_BUDGET_MS = 1000;

describe.skipIf(!inject('redisUrl'))('access removal takes effect live on every node (two nodes, one Redis)', () => {
  const two = twoNodes();

  /** An owner and a member U, in a community with a public and a private channel that U belongs to. */
  async function setup() {
    const owner = await registerUser(two.nodeA.url);
    const u = await registerUser(two.nodeA.url);
    const community = await createCommunityAs(two.nodeA.url, owner);
    await addMemberAs(two.nodeA.url, community, owner, u);
    const open = await createChannelAs(two.nodeA.url, owner, community.id, { name: 'open' });
    const secret = await createChannelAs(two.nodeA.url, owner, community.id, { name: 'secret', visibility: 'private' });
    await addChannelMemberAs(two.nodeA.url, owner, secret.id, u.user.id);
    return { owner, u, community, open, secret };
  }

  /** Runs the HTTP call on node A, then waits (within the budget) until `seen` holds `expected` channel ids. */
  async function expectRemovedWithinBudget(seen: { channelId: string }[], action: () => Promise<{ status: number }>, expected: string[]) {
    const res = await action();
    expect(res.status).toBe(204);
    const answeredAt = Date.now();
    await eventually(() => seen.length >= expected.length, REMOVAL_BUDGET_MS, `channel:removed for ${expected.length} channel(s)`);
    expect(Date.now() - answeredAt).toBeLessThan(REMOVAL_BUDGET_MS);
    expect(seen.map((e) => e.channelId).sort()).toEqual([...expected].sort());
  }

  it('removing U from a private channel on node A tells U on node B and takes the socket out of the room', async () => {
    const { owner, u, secret } = await setup();
    const uOnB = await two.socketOn(two.nodeB, u);
    const ownerOnA = await two.socketOn(two.nodeA, owner);
    await emitOk(uOnB, 'channel:join', { channelId: secret.id });
    await emitOk(ownerOnA, 'channel:join', { channelId: secret.id });
    const removed = collect(uOnB, 'channel:removed');
    const messages = collect(uOnB, 'message:created');

    await expectRemovedWithinBudget(
      removed,
      () => call(two.nodeA, 'DELETE', `/channels/${secret.id}/members/${u.user.id}`, owner),
      [secret.id],
    );

    // Out of the room: a message sent afterwards on node A does not reach U, and re-joining is refused.
    const ownerSees = collect(ownerOnA, 'message:created');
    await emitOk(ownerOnA, 'message:send', { channelId: secret.id, clientId: `after-removal-${u.user.id}`, body: 'not for U' });
    await eventually(() => ownerSees.length === 1, 2000, 'the owner sees their own message');
    await new Promise((r) => setTimeout(r, 200));
    expect(messages).toEqual([]);
    const rejoin = await emitAck(uOnB, 'channel:join', { channelId: secret.id });
    expect(rejoin).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it("kicking U from the community on node A removes every one of its channels from U's sockets on node B", async () => {
    const { owner, u, community, open, secret } = await setup();
    const uOnB = await two.socketOn(two.nodeB, u);
    const removed = collect(uOnB, 'channel:removed');
    await expectRemovedWithinBudget(
      removed,
      () => call(two.nodeA, 'DELETE', `/communities/${community.id}/members/${u.user.id}`, owner),
      [open.id, secret.id],
    );
  });

  it("leaving the community on node A closes its channels on U's other device on node B", async () => {
    const { u, community, open, secret } = await setup();
    const otherDevice = await two.socketOn(two.nodeB, u);
    const removed = collect(otherDevice, 'channel:removed');
    await expectRemovedWithinBudget(
      removed,
      () => call(two.nodeA, 'POST', `/communities/${community.id}/leave`, u),
      [open.id, secret.id],
    );
  });

  it('a block on node A takes the blocked person out of the 1:1 DM on node B', async () => {
    const blocker = await registerUser(two.nodeA.url);
    const u = await registerUser(two.nodeA.url);
    const { channel: dm } = await ok(call<ChannelEnvelope>(two.nodeA, 'POST', '/dms', u, { userIds: [blocker.user.id] }), 201);
    const uOnB = await two.socketOn(two.nodeB, u);
    const blockerOnB = await two.socketOn(two.nodeB, blocker);
    const blockerRemoved = collect(blockerOnB, 'channel:removed');
    const removed = collect(uOnB, 'channel:removed');
    await expectRemovedWithinBudget(
      removed,
      () => call(two.nodeA, 'POST', `/users/${u.user.id}/block`, blocker),
      [dm.id],
    );
    expect(blockerRemoved).toEqual([]);
  });

  it('says nothing to someone who keeps access: an admin taken off a private channel still reads it', async () => {
    const { owner, community, secret } = await setup();
    const admin = await registerUser(two.nodeA.url);
    await addMemberAs(two.nodeA.url, community, owner, admin, 'admin');
    await addChannelMemberAs(two.nodeA.url, owner, secret.id, admin.user.id);
    const adminOnB = await two.socketOn(two.nodeB, admin);
    const removed = collect(adminOnB, 'channel:removed');
    const res = await call(two.nodeA, 'DELETE', `/channels/${secret.id}/members/${admin.user.id}`, owner);
    expect(res.status).toBe(204);
    await new Promise((r) => setTimeout(r, 300));
    expect(removed).toEqual([]);
    // …but demoting them to member does take it away.
    const demoted = await call(two.nodeA, 'PATCH', `/communities/${community.id}/members/${admin.user.id}`, owner, { role: 'member' });
    expect(demoted.status).toBe(200);
    await eventually(() => removed.length === 1, REMOVAL_BUDGET_MS, 'channel:removed after the demotion');
    expect(removed).toEqual([{ channelId: secret.id }]);
  });
});

describe('what the community events do to sockets and rooms (registerCommunityClientEvents)', () => {
  const quiet: Logger = { info() {}, warn() {}, error() {} };

  /** A bus with only the community listener, over a publisher that writes down every call in order. */
  function listening() {
    const calls: string[] = [];
    const publisher: Publisher = {
      toRoom: (room, event, ...args) => void calls.push(`to ${String(room)} ${event} ${JSON.stringify(args[0])}`),
      revokeSession: async () => {},
      leaveRoom: (who, room) => void calls.push(`leave ${who} ${room}`),
      joinRoom: (who, room) => void calls.push(`join ${who} ${room}`),
      revokePresence: (userId) => void calls.push(`revoke presence ${userId}`),
    };
    const bus = createEventBus(quiet);
    registerCommunityClientEvents(bus, publisher);
    return { bus, calls };
  }

  it('a removed member hears each channel go, then leaves its room, the presence, the feed and the moderation queue', async () => {
    const { bus, calls } = listening();
    await bus.emit('member.removed', { communityId: 'k', userId: 'u', channelIds: ['a', 'b'], platformRole: 'user' });
    expect(calls).toEqual([
      `to ${rooms.user('u')} channel:removed {"channelId":"a"}`,
      `leave ${rooms.user('u')} ${rooms.channel('a')}`,
      `to ${rooms.user('u')} channel:removed {"channelId":"b"}`,
      `leave ${rooms.user('u')} ${rooms.channel('b')}`,
      `leave ${rooms.user('u')} ${rooms.communityPresence('k')}`,
      'revoke presence u',
      `leave ${rooms.user('u')} ${rooms.feed('k')}`,
      `leave ${rooms.user('u')} ${rooms.moderation('k')}`,
    ]);
  });

  it('platform moderators keep the moderation queue of a community they leave, and of one where they are demoted', async () => {
    const { bus, calls } = listening();
    await bus.emit('member.removed', { communityId: 'k', userId: 'u', channelIds: [], platformRole: 'moderator' });
    await bus.emit('member.role_changed', { communityId: 'k', userId: 'u', previousRole: 'moderator', role: 'member', platformRole: 'admin' });
    expect(calls).toEqual([`leave ${rooms.user('u')} ${rooms.communityPresence('k')}`, 'revoke presence u', `leave ${rooms.user('u')} ${rooms.feed('k')}`]);
  });

  it('a moderator demoted to member leaves the moderation queue; other role changes move no room', async () => {
    const { bus, calls } = listening();
    await bus.emit('member.role_changed', { communityId: 'k', userId: 'u', previousRole: 'admin', role: 'moderator', platformRole: 'user' });
    await bus.emit('member.role_changed', { communityId: 'k', userId: 'u', previousRole: 'member', role: 'admin', platformRole: 'user' });
    expect(calls).toEqual([]);
    await bus.emit('member.role_changed', { communityId: 'k', userId: 'u', previousRole: 'moderator', role: 'member', platformRole: 'user' });
    expect(calls).toEqual([`leave ${rooms.user('u')} ${rooms.moderation('k')}`]);
  });

  it('a new member joins the presence room; new channels reach every member or the named people, in order', async () => {
    const { bus, calls } = listening();
    await bus.emit('member.joined', { communityId: 'k', userId: 'u' });
    await bus.emit('channel.added', { channelId: 'pub', communityId: 'k', openTo: 'members' });
    await bus.emit('channel.added', { channelId: 'dm', communityId: null, openTo: 'users', userIds: ['u', 'v'] });
    expect(calls).toEqual([
      `join ${rooms.user('u')} ${rooms.communityPresence('k')}`,
      `to ${rooms.communityPresence('k')} channel:added {"channelId":"pub","communityId":"k"}`,
      `to ${rooms.user('u')} channel:added {"channelId":"dm","communityId":null}`,
      `to ${rooms.user('v')} channel:added {"channelId":"dm","communityId":null}`,
    ]);
  });

  it('revoked channel access is told per channel before the room is left', async () => {
    const { bus, calls } = listening();
    await bus.emit('channel.access_revoked', { userId: 'u', channelIds: ['dm'] });
    expect(calls).toEqual([`to ${rooms.user('u')} channel:removed {"channelId":"dm"}`, `leave ${rooms.user('u')} ${rooms.channel('dm')}`]);
  });
});
