import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ChannelDto } from '../../contracts/communities.ts';
import {
  addChannelMemberAs,
  addMemberAs,
  createChannelAs,
  createCommunityAs,
  type TestUser,
} from '../../test/communityFactories.ts';
import { api, collect, connectSocket, emitAck, emitOk, eventually, registerUser, type ClientSocket } from '../../test/factories.ts';
import { startCluster, type RunningNode } from '../../test/nodes.ts';

/** How long a removal may take to reach the removed user's socket on the other node, from the HTTP response. */
const REMOVAL_BUDGET_MS = 1000;

describe.skipIf(!inject('redisUrl'))('access removal takes effect live on every node (two nodes, one Redis)', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let nodeA: RunningNode;
  let nodeB: RunningNode;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    cluster = await startCluster(2);
    [nodeA, nodeB] = cluster.nodes as [RunningNode, RunningNode];
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

  /** An owner and a member U, in a community with a public and a private channel that U belongs to. */
  async function setup() {
    const owner = await registerUser(nodeA.url);
    const u = await registerUser(nodeA.url);
    const community = await createCommunityAs(nodeA.url, owner);
    await addMemberAs(nodeA.url, community, owner, u);
    const open = await createChannelAs(nodeA.url, owner, community.id, { name: 'open' });
    const secret = await createChannelAs(nodeA.url, owner, community.id, { name: 'secret', visibility: 'private' });
    await addChannelMemberAs(nodeA.url, owner, secret.id, u.user.id);
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
    const uOnB = await socketOn(nodeB, u);
    const ownerOnA = await socketOn(nodeA, owner);
    await emitOk(uOnB, 'channel:join', { channelId: secret.id });
    await emitOk(ownerOnA, 'channel:join', { channelId: secret.id });
    const removed = collect<{ channelId: string }>(uOnB, 'channel:removed');
    const messages = collect(uOnB, 'message:created');

    await expectRemovedWithinBudget(
      removed,
      () => api(nodeA.url, 'DELETE', `/api/v1/channels/${secret.id}/members/${u.user.id}`, { token: owner.accessToken }),
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
    const uOnB = await socketOn(nodeB, u);
    const removed = collect<{ channelId: string }>(uOnB, 'channel:removed');
    await expectRemovedWithinBudget(
      removed,
      () => api(nodeA.url, 'DELETE', `/api/v1/communities/${community.id}/members/${u.user.id}`, { token: owner.accessToken }),
      [open.id, secret.id],
    );
  });

  it("leaving the community on node A closes its channels on U's other device on node B", async () => {
    const { u, community, open, secret } = await setup();
    const otherDevice = await socketOn(nodeB, u);
    const removed = collect<{ channelId: string }>(otherDevice, 'channel:removed');
    await expectRemovedWithinBudget(
      removed,
      () => api(nodeA.url, 'POST', `/api/v1/communities/${community.id}/leave`, { token: u.accessToken }),
      [open.id, secret.id],
    );
  });

  it('a block on node A takes the blocked person out of the 1:1 DM on node B', async () => {
    const blocker = await registerUser(nodeA.url);
    const u = await registerUser(nodeA.url);
    const dm = (await api(nodeA.url, 'POST', '/api/v1/dms', { token: u.accessToken, body: { userIds: [blocker.user.id] } })).body.channel as ChannelDto;
    const uOnB = await socketOn(nodeB, u);
    const blockerOnB = await socketOn(nodeB, blocker);
    const blockerRemoved = collect(blockerOnB, 'channel:removed');
    const removed = collect<{ channelId: string }>(uOnB, 'channel:removed');
    await expectRemovedWithinBudget(
      removed,
      () => api(nodeA.url, 'POST', `/api/v1/users/${u.user.id}/block`, { token: blocker.accessToken }),
      [dm.id],
    );
    expect(blockerRemoved).toEqual([]);
  });

  it('says nothing to someone who keeps access: an admin taken off a private channel still reads it', async () => {
    const { owner, community, secret } = await setup();
    const admin = await registerUser(nodeA.url);
    await addMemberAs(nodeA.url, community, owner, admin, 'admin');
    await addChannelMemberAs(nodeA.url, owner, secret.id, admin.user.id);
    const adminOnB = await socketOn(nodeB, admin);
    const removed = collect(adminOnB, 'channel:removed');
    const res = await api(nodeA.url, 'DELETE', `/api/v1/channels/${secret.id}/members/${admin.user.id}`, { token: owner.accessToken });
    expect(res.status).toBe(204);
    await new Promise((r) => setTimeout(r, 300));
    expect(removed).toEqual([]);
    // …but demoting them to member does take it away.
    const demoted = await api(nodeA.url, 'PATCH', `/api/v1/communities/${community.id}/members/${admin.user.id}`, {
      token: owner.accessToken,
      body: { role: 'member' },
    });
    expect(demoted.status).toBe(200);
    await eventually(() => removed.length === 1, REMOVAL_BUDGET_MS, 'channel:removed after the demotion');
    expect(removed).toEqual([{ channelId: secret.id }]);
  });
});
