import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelDto } from '../../contracts/communities.ts';
import { expectNoEmails, insertMessage } from '../../test/communityFactories.ts';
import { call, registerUser, registerUsers, type TestUser } from '../../test/factories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

const ref = (u: TestUser) => ({ id: u.user.id, displayName: u.user.displayName });
const openDm = (from: TestUser, ...to: TestUser[]) => call(node, 'POST', '/dms', from, { userIds: to.map((u) => u.user.id) });

describe('POST /dms', () => {
  it('opens one 1:1 DM per pair: 201 when created, 200 with the same channel afterwards, from either side', async () => {
    const [alice, bob] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const created = await openDm(alice, bob);
    expect(created.status).toBe(201);
    expect(created.body.channel).toEqual({
      id: expect.any(String),
      communityId: null,
      kind: 'dm',
      name: null,
      topic: '',
      visibility: 'private',
      archived: false,
      lastSeq: 0,
      unreadCount: 0,
      mentionCount: 0,
      members: [ref(bob)],
    });
    expectNoEmails(created.body);
    const again = await openDm(alice, bob, bob, alice);
    expect(again.status).toBe(200);
    expect(again.body.channel.id).toBe(created.body.channel.id);
    const reverse = await openDm(bob, alice);
    expect(reverse.status).toBe(200);
    expect(reverse.body.channel).toMatchObject({ id: created.body.channel.id, members: [ref(alice)] });
  });

  it('de-duplicates concurrent openings of the same pair through the unique dm_key', async () => {
    const [alice, bob] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? openDm(alice, bob) : openDm(bob, alice))));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(7);
    expect(new Set(results.map((r) => r.body.channel.id)).size).toBe(1);
  });

  it('creates group DMs of up to 10 people including the caller', async () => {
    const people = await registerUsers(node.url, 10);
    const [me, ...others] = people;
    const group = await openDm(me, ...others.slice(0, 2));
    expect(group.status).toBe(201);
    expect(group.body.channel.kind).toBe('group_dm');
    expect(group.body.channel.members.map((m: { id: string }) => m.id).sort()).toEqual(others.slice(0, 2).map((u) => u.user.id).sort());

    expect((await openDm(me, ...others)).status).toBe(201);
    const tooMany = await call(node, 'POST', '/dms', me, { userIds: [...others.map((u) => u.user.id), crypto.randomUUID()] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toMatch(/at most 10/);
  });

  it('refuses a DM with nobody else or with unknown people', async () => {
    const me = await registerUser(node.url);
    expect((await call(node, 'POST', '/dms', me, { userIds: [me.user.id] })).status).toBe(400);
    expect((await call(node, 'POST', '/dms', me, { userIds: [] })).status).toBe(400);
    expect((await call(node, 'POST', '/dms', me, { userIds: [crypto.randomUUID()] })).status).toBe(404);
    expect((await call(node, 'POST', '/dms', undefined, { userIds: [me.user.id] })).status).toBe(401);
  });
});

describe('GET /dms', () => {
  it("lists the caller's DMs, most recently active first, with the other members and unread counts", async () => {
    const [me, a, b, c] = await registerUsers(node.url, 4);
    const withA = (await openDm(me, a)).body.channel as ChannelDto;
    const group = (await openDm(b, me, c)).body.channel as ChannelDto;
    const withB = (await openDm(b, me)).body.channel as ChannelDto;
    await insertMessage(node, { channelId: withA.id, authorId: a.user.id, mentions: [me.user.id] });
    await insertMessage(node, { channelId: group.id, authorId: c.user.id });

    const res = await call(node, 'GET', '/dms', me);
    expect(res.status).toBe(200);
    expectNoEmails(res.body);
    expect(res.body.data.map((d: ChannelDto) => d.id)).toEqual([group.id, withA.id, withB.id]);
    const byId = Object.fromEntries(res.body.data.map((d: ChannelDto) => [d.id, d]));
    expect(byId[withA.id]).toMatchObject({ lastSeq: 1, unreadCount: 1, mentionCount: 1, members: [ref(a)] });
    expect(byId[group.id].members.map((m: { id: string }) => m.id).sort()).toEqual([b.user.id, c.user.id].sort());
    expect((await call(node, 'GET', '/dms', c)).body.data.map((d: ChannelDto) => d.id)).toEqual([group.id]);
  });
});

describe('blocks', () => {
  it('stops DMs either way, lists blocks, and unblocking reopens the same DM', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(node.url), registerUser(node.url), registerUser(node.url)]);
    const dm = (await openDm(alice, bob)).body.channel as ChannelDto;

    expect((await call(node, 'POST', `/users/${bob.user.id}/block`, alice)).status).toBe(204);
    expect((await call(node, 'POST', `/users/${bob.user.id}/block`, alice)).status).toBe(204);
    const blocks = await call(node, 'GET', '/users/blocks', alice);
    expect(blocks.body.data).toEqual([{ user: ref(bob), blockedAt: expect.any(String) }]);
    expectNoEmails(blocks.body);

    const refusals: [TestUser, TestUser[]][] = [
      [bob, [alice]],
      [alice, [bob]],
      [bob, [carol, alice]],
    ];
    for (const [from, to] of refusals) {
      const refused = await openDm(from, ...to);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('forbidden');
    }
    // A third person may still put both in a group: the block is between the two of them.
    expect((await openDm(carol, alice, bob)).status).toBe(201);

    // The blocked person no longer sees the 1:1 DM; the blocker still does.
    expect((await call(node, 'GET', '/dms', bob)).body.data.map((d: ChannelDto) => d.id)).not.toContain(dm.id);
    expect((await call(node, 'GET', '/dms', alice)).body.data.map((d: ChannelDto) => d.id)).toContain(dm.id);

    expect((await call(node, 'DELETE', `/users/${bob.user.id}/block`, alice)).status).toBe(204);
    expect((await call(node, 'DELETE', `/users/${bob.user.id}/block`, alice)).status).toBe(204);
    expect((await call(node, 'GET', '/users/blocks', alice)).body.data).toEqual([]);
    const reopened = await openDm(bob, alice);
    expect(reopened.status).toBe(200);
    expect(reopened.body.channel.id).toBe(dm.id);
  });

  it('refuses blocking yourself or nobody', async () => {
    const me = await registerUser(node.url);
    expect((await call(node, 'POST', `/users/${me.user.id}/block`, me)).status).toBe(400);
    expect((await call(node, 'POST', `/users/${crypto.randomUUID()}/block`, me)).status).toBe(404);
  });
});
