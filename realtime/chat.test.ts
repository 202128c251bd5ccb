import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageList, MessagePage } from '../contracts/chat.ts';
import type { ChannelEnvelope } from '../contracts/communities.ts';
import type { AckResult } from '../contracts/errors.ts';
import { ChannelReplica, follow, seedCommunity, seedDm } from '../test/communities.ts';
import { call, collect, connectSocket, emitAck, emitOk, eventually, registerUser, type ClientSocket, type TestUser } from '../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../test/nodes.ts';

let node: RunningNode;
const sockets: ClientSocket[] = [];
async function socketFor(token: string) {
  const socket = await connectSocket(node.url, token);
  sockets.push(socket);
  return socket;
}
beforeAll(async () => {
  node = await startNode({ env: { RATE_LIMIT_MESSAGES_PER_10S: '1000', RATE_LIMIT_EVENTS_PER_10S: '10000' } });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await node?.close();
});

async function communityWith(...users: TestUser[]) {
  return seedCommunity(node, {
    members: users.map((u, i) => ({ userId: u.user.id, role: i === 0 ? 'owner' : 'member' })),
    channels: [{ name: 'general' }],
  });
}

describe('sending', () => {
  it('acks the stored message and delivers it to the room with gapless seqs', async () => {
    const alice = await registerUser(node.url, { displayName: 'Alice Send' });
    const bob = await registerUser(node.url, { displayName: 'Bob Send' });
    const { channels } = await communityWith(alice, bob);
    const a = await socketFor(alice.accessToken);
    const b = await socketFor(bob.accessToken);
    await emitOk(a, 'channel:join', { channelId: channels.general, afterSeq: 0 });
    await emitOk(b, 'channel:join', { channelId: channels.general, afterSeq: 0 });
    const received = collect(b, 'message:created');
    const replica = new ChannelReplica();
    follow(b, replica);

    const acks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => emitOk(a, 'message:send', { channelId: channels.general, clientId: `send-${i}-${alice.user.id}`, body: `  hello ${i}  ` })),
    );
    expect(acks.map((m) => m.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(acks[0]!.body).toBe('hello 0');
    expect(acks[0]!.author).toEqual({ id: alice.user.id, displayName: 'Alice Send' });
    expect(JSON.stringify(acks[0])).not.toContain('@example.test');
    await eventually(() => received.length === 20, 3000, 'all deliveries');
    expect(received.map((e) => e.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(replica.applied).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    // Stored: the REST history shows exactly what was acknowledged.
    const history = await call<MessagePage>(node, 'GET', `/channels/${channels.general}/messages?afterSeq=0&limit=100`, bob);
    expect(history.body.data.map((m) => m.id).sort()).toEqual(acks.map((m) => m.id).sort());
  });

  it('presents html only for bodies with markup or a link, the same in the ack, the room, history and after an edit', async () => {
    const alice = await registerUser(node.url, { displayName: 'Alice Markup' });
    const bob = await registerUser(node.url, { displayName: 'Bob Markup' });
    const { channels } = await communityWith(alice, bob);
    const a = await socketFor(alice.accessToken);
    const b = await socketFor(bob.accessToken);
    await emitOk(a, 'channel:join', { channelId: channels.general, afterSeq: 0 });
    await emitOk(b, 'channel:join', { channelId: channels.general, afterSeq: 0 });
    const received = collect(b, 'message:created');
    const send = (body: string, i: number) =>
      emitOk(a, 'message:send', { channelId: channels.general, clientId: `markup-${i}-${alice.user.id}`, body });

    const plain = await send('just words, nothing else', 1);
    const link = await send('see https://example.org/a?b=1 and **this**', 2);
    const script = await send('`code` <script>alert(1)</script>', 3);
    expect(plain).not.toHaveProperty('html');
    expect(link.html).toBe(
      '<p>see <a href="https://example.org/a?b=1" rel="nofollow noopener noreferrer" target="_blank">https://example.org/a?b=1</a> and <strong>this</strong></p>',
    );
    expect(script.html).toBe('<p><code>code</code> &lt;script&gt;alert(1)&lt;/script&gt;</p>');

    await eventually(() => received.length === 3, 3000, 'deliveries');
    expect(received.map((e) => e.message.html)).toEqual([undefined, link.html, script.html]);
    const history = await call<MessagePage>(node, 'GET', `/channels/${channels.general}/messages?afterSeq=0&limit=10`, bob);
    expect(history.body.data.map((m) => m.html)).toEqual([undefined, link.html, script.html]);

    // An edit renders again: markup gained, then lost.
    const edited = await emitOk(a, 'message:edit', { messageId: plain.id, body: 'now *emphasised*' });
    expect(edited.html).toBe('<p>now <em>emphasised</em></p>');
    const flattened = await emitOk(a, 'message:edit', { messageId: link.id, body: 'no link any more' });
    expect(flattened).not.toHaveProperty('html');
  });

  it('is idempotent on clientId: a retry returns the original and broadcasts nothing new', async () => {
    const alice = await registerUser(node.url);
    const { channels } = await communityWith(alice);
    const a = await socketFor(alice.accessToken);
    await emitOk(a, 'channel:join', { channelId: channels.general, afterSeq: 0 });
    const created = collect(a, 'message:created');
    const input = { channelId: channels.general, clientId: `retry-${alice.user.id}`, body: 'only once' };
    const [first, second, third] = await Promise.all([emitOk(a, 'message:send', input), emitOk(a, 'message:send', input), emitOk(a, 'message:send', input)]);
    expect(second.id).toBe(first.id);
    expect(third.id).toBe(first.id);
    await new Promise((r) => setTimeout(r, 100));
    expect(created).toHaveLength(1);
    const join = await emitOk(a, 'channel:join', { channelId: channels.general, afterSeq: 0 });
    expect(join.lastSeq).toBe(1);
  });

  it('refuses bad input with invalid_input and never stores it', async () => {
    const alice = await registerUser(node.url);
    const { channels } = await communityWith(alice);
    const a = await socketFor(alice.accessToken);
    for (const bad of [
      { channelId: channels.general, clientId: 'short', body: 'x' },
      { channelId: channels.general, clientId: `ok-${alice.user.id}`, body: '   ' },
      { channelId: channels.general, clientId: `ok-${alice.user.id}`, body: 'x'.repeat(4001) },
      { channelId: 'not-a-uuid', clientId: `ok-${alice.user.id}`, body: 'x' },
    ]) {
      const res = await emitAck(a, 'message:send', bad);
      expect(res.ok).toBe(false);
      expect(!res.ok && res.error.code).toBe('invalid_input');
    }
    const join = await emitOk(a, 'channel:join', { channelId: channels.general });
    expect(join.lastSeq).toBe(0);
  });

  it('limits message:send per user with rate_limited and retryAfter', async () => {
    const limited = await startNode({ env: { RATE_LIMIT_MESSAGES_PER_10S: '3' } });
    try {
      const alice = await registerUser(limited.url);
      const { channels } = await seedCommunity(limited, { members: [{ userId: alice.user.id }], channels: [{ name: 'general' }] });
      const a = await connectSocket(limited.url, alice.accessToken);
      sockets.push(a);
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await emitAck(a, 'message:send', { channelId: channels.general, clientId: `rl-${i}-${alice.user.id}`, body: 'hi' }));
      expect(results.slice(0, 3).every((r) => r.ok)).toBe(true);
      expect(!results[3]!.ok && results[3]!.error.code).toBe('rate_limited');
      expect(!results[3]!.ok && results[3]!.error.retryAfter).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});

describe('edits, deletes, reactions, threads, pins', () => {
  it('each change is a channel event; a late joiner replaying from 0 ends in the same state as a live client', async () => {
    const alice = await registerUser(node.url, { displayName: 'Alice Edit' });
    const bob = await registerUser(node.url, { displayName: 'Bob Edit' });
    const mod = await registerUser(node.url, { displayName: 'Mona Mod' });
    const { channels } = await seedCommunity(node, {
      members: [{ userId: alice.user.id, role: 'member' }, { userId: bob.user.id }, { userId: mod.user.id, role: 'moderator' }],
      channels: [{ name: 'general' }],
    });
    const a = await socketFor(alice.accessToken);
    const b = await socketFor(bob.accessToken);
    const m = await socketFor(mod.accessToken);
    const live = new ChannelReplica();
    follow(b, live);
    for (const s of [a, b, m]) await emitOk(s, 'channel:join', { channelId: channels.general, afterSeq: 0 });

    const root = await emitOk(a, 'message:send', { channelId: channels.general, clientId: `root-${alice.user.id}`, body: 'root' });
    const reply = await emitOk(b, 'message:send', { channelId: channels.general, clientId: `reply-${bob.user.id}`, body: 'a reply', replyToId: root.id });
    expect(reply.replyToId).toBe(root.id);
    // A reply to a reply joins the root's thread.
    const nested = await emitOk(a, 'message:send', { channelId: channels.general, clientId: `nested-${alice.user.id}`, body: 'nested', replyToId: reply.id });
    expect(nested.replyToId).toBe(root.id);
    const edited = await emitOk(a, 'message:edit', { messageId: root.id, body: 'root (edited)' });
    expect(edited.editedAt).not.toBeNull();
    const notYours = await emitAck(b, 'message:edit', { messageId: root.id, body: 'hijack' });
    expect(!notYours.ok && notYours.error.code).toBe('forbidden');
    await emitOk(b, 'reaction:toggle', { messageId: root.id, emoji: '👍' });
    await emitOk(m, 'reaction:toggle', { messageId: root.id, emoji: '👍' });
    const toggledOff = await emitOk(b, 'reaction:toggle', { messageId: root.id, emoji: '👍' });
    expect(toggledOff.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [mod.user.id] }]);
    const cannotPin = await emitAck(a, 'message:pin', { messageId: root.id, pinned: true });
    expect(!cannotPin.ok && cannotPin.error.code).toBe('forbidden');
    await emitOk(m, 'message:pin', { messageId: root.id, pinned: true });
    const doomed = await emitOk(b, 'message:send', { channelId: channels.general, clientId: `doomed-${bob.user.id}`, body: 'secret words' });
    await emitOk(b, 'reaction:toggle', { messageId: doomed.id, emoji: '🔥' });
    const cannotDelete = await emitAck(a, 'message:delete', { messageId: doomed.id });
    expect(!cannotDelete.ok && cannotDelete.error.code).toBe('forbidden');
    const tomb = await emitOk(m, 'message:delete', { messageId: doomed.id });
    expect(tomb).toMatchObject({ body: '', reactions: [], deletedAt: expect.any(String) });

    const join = await emitOk(a, 'channel:join', { channelId: channels.general, afterSeq: 0 });
    await eventually(() => live.lastSeq === join.lastSeq, 3000, 'live replica to catch up');
    const late = new ChannelReplica();
    for (const event of join.events) late.apply(event);
    expect(late.applied).toEqual(Array.from({ length: join.lastSeq }, (_, i) => i + 1));
    expect(late.snapshot()).toEqual(live.snapshot());
    const final = new Map(late.snapshot().map((msg) => [msg.id, msg]));
    expect(final.get(root.id)).toMatchObject({ body: 'root (edited)', threadCount: 2, pinned: true });
    expect(final.get(doomed.id)!.body).toBe('');
    // Deleted content is gone from every read path.
    expect(JSON.stringify(join.events)).not.toContain('secret words');
    const thread = await call<MessageList>(node, 'GET', `/messages/${reply.id}/thread`, bob);
    expect(thread.body.data.map((x) => x.id)).toEqual([root.id, reply.id, nested.id]);
    const search = await call<MessageList>(node, 'GET', `/search/messages?q=secret`, bob);
    expect(search.body.data).toEqual([]);
  });
});

describe('mentions, read state and typing', () => {
  it('resolves @mentions, counts unread and mentions, and syncs read state to other devices', async () => {
    const alice = await registerUser(node.url, { displayName: 'Ada Mentioner' });
    const bob = await registerUser(node.url, { displayName: 'Bo Reader' });
    const { channels } = await communityWith(alice, bob);
    const a = await socketFor(alice.accessToken);
    const bobPhone = await socketFor(bob.accessToken);
    const mentions = collect(bobPhone, 'mention:created');
    const readUpdates = collect(bobPhone, 'read:updated');
    await emitOk(a, 'channel:join', { channelId: channels.general, afterSeq: 0 });
    const mentionMsg = await emitOk(a, 'message:send', { channelId: channels.general, clientId: `m1-${alice.user.id}`, body: 'hey @bo reader, look' });
    await emitOk(a, 'message:send', { channelId: channels.general, clientId: `m2-${alice.user.id}`, body: 'not for @Bo Readers or email@Bo Reader' });
    await emitOk(a, 'message:send', { channelId: channels.general, clientId: `m3-${alice.user.id}`, body: 'plain' });
    expect(mentionMsg.mentions).toEqual([bob.user.id]);
    await eventually(() => mentions.length === 1, 2000, 'mention:created');
    expect(mentions[0]).toMatchObject({ channelId: channels.general, messageId: mentionMsg.id, author: { displayName: 'Ada Mentioner' } });

    const bobLaptop = await socketFor(bob.accessToken);
    const before = await emitOk(bobLaptop, 'read:mark', { channelId: channels.general, seq: 0 });
    expect(before).toEqual({ channelId: channels.general, seq: 0, unreadCount: 3, mentionCount: 1 });
    const after = await emitOk(bobLaptop, 'read:mark', { channelId: channels.general, seq: 1 });
    expect(after).toMatchObject({ seq: 1, unreadCount: 2, mentionCount: 0 });
    // Never backwards; and far-future seqs are clamped to the channel's last seq.
    expect(await emitOk(bobLaptop, 'read:mark', { channelId: channels.general, seq: 0 })).toMatchObject({ seq: 1 });
    expect(await emitOk(bobLaptop, 'read:mark', { channelId: channels.general, seq: 999 })).toMatchObject({ seq: 3, unreadCount: 0 });
    await eventually(() => readUpdates.some((r) => r.seq === 3), 2000, 'read:updated on the other device');
  });

  it('sends typing to the other members only, and only to sockets in the room', async () => {
    const alice = await registerUser(node.url, { displayName: 'Tia Typist' });
    const bob = await registerUser(node.url);
    const { channels } = await communityWith(alice, bob);
    const a = await socketFor(alice.accessToken);
    const b = await socketFor(bob.accessToken);
    const notJoined = await socketFor(bob.accessToken);
    const atA = collect(a, 'typing');
    const atB = collect(b, 'typing');
    const atOther = collect(notJoined, 'typing');
    const refused = await emitAck(a, 'typing:start', { channelId: channels.general });
    expect(!refused.ok && refused.error.code).toBe('forbidden');
    await emitOk(a, 'channel:join', { channelId: channels.general });
    await emitOk(b, 'channel:join', { channelId: channels.general });
    await emitOk(a, 'typing:start', { channelId: channels.general });
    await emitOk(a, 'typing:start', { channelId: channels.general }); // throttled: one broadcast per 2 s
    await eventually(() => atB.length === 1, 2000, 'typing at B');
    await new Promise((r) => setTimeout(r, 100));
    expect(atB).toEqual([{ channelId: channels.general, userId: alice.user.id, displayName: 'Tia Typist' }]);
    expect(atA).toEqual([]);
    expect(atOther).toEqual([]);
  });
});

describe('authorization', () => {
  it.each([
    ['a non-member of the community', 'outsider'],
    ['a member who is not in the private channel', 'member'],
  ])('%s cannot join, read, send or search a private channel', async (_label, who) => {
    const owner = await registerUser(node.url);
    const member = await registerUser(node.url);
    const outsider = await registerUser(node.url);
    const { channels, communityId } = await seedCommunity(node, {
      members: [{ userId: owner.user.id, role: 'owner' }, { userId: member.user.id }],
      channels: [{ name: 'secret', visibility: 'private', members: [owner.user.id] }, { name: 'general' }],
    });
    const ownerSocket = await socketFor(owner.accessToken);
    const secret = await emitOk(ownerSocket, 'message:send', { channelId: channels.secret, clientId: `s-${owner.user.id}`, body: 'classified plans' });
    const intruder = who === 'outsider' ? outsider : member;
    const s = await socketFor(intruder.accessToken);
    const attempts: [string, () => Promise<AckResult<unknown>>][] = [
      ['channel:join', () => emitAck(s, 'channel:join', { channelId: channels.secret, afterSeq: 0 })],
      ['message:send', () => emitAck(s, 'message:send', { channelId: channels.secret, clientId: `x-${intruder.user.id}`, body: 'let me in' })],
      ['reaction:toggle', () => emitAck(s, 'reaction:toggle', { messageId: secret.id, emoji: '👀' })],
      ['message:delete', () => emitAck(s, 'message:delete', { messageId: secret.id })],
      ['read:mark', () => emitAck(s, 'read:mark', { channelId: channels.secret, seq: 1 })],
    ];
    for (const [event, attempt] of attempts) {
      const res = await attempt();
      expect(res.ok, event).toBe(false);
      expect(!res.ok && res.error.code, event).toBe('not_found');
    }
    expect((await call(node, 'GET', `/channels/${channels.secret}/messages`, intruder)).status).toBe(404);
    expect((await call(node, 'GET', `/messages/${secret.id}/thread`, intruder)).status).toBe(404);
    const search = await call<MessageList>(node, 'GET', `/search/messages?q=classified&communityId=${communityId}`, intruder);
    expect(search.body.data).toEqual([]);
    const ownerSearch = await call<MessageList>(node, 'GET', `/search/messages?q=classified`, owner);
    expect(ownerSearch.body.data.map((m) => m.id)).toEqual([secret.id]);
    // Public channels of a community are closed to outsiders too.
    if (who === 'outsider') {
      const res = await emitAck(s, 'channel:join', { channelId: channels.general });
      expect(!res.ok && res.error.code).toBe('not_found');
    }
  });

  it('archived channels can be read but not written', async () => {
    const alice = await registerUser(node.url);
    const { channels } = await seedCommunity(node, { members: [{ userId: alice.user.id }], channels: [{ name: 'old', archived: true }] });
    const a = await socketFor(alice.accessToken);
    await emitOk(a, 'channel:join', { channelId: channels.old, afterSeq: 0 });
    const res = await emitAck(a, 'message:send', { channelId: channels.old, clientId: `arch-${alice.user.id}`, body: 'hello?' });
    expect(!res.ok && res.error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/archived/) });
  });

  it('a DM is private to its members; a block stops the blocked person writing and reading it', async () => {
    const alice = await registerUser(node.url);
    const bob = await registerUser(node.url);
    const eve = await registerUser(node.url);
    const dm = await seedDm(node, [alice.user.id, bob.user.id]);
    const a = await socketFor(alice.accessToken);
    const b = await socketFor(bob.accessToken);
    await emitOk(b, 'message:send', { channelId: dm, clientId: `dm1-${bob.user.id}`, body: 'hi alice' });
    const e = await socketFor(eve.accessToken);
    expect((await emitAck(e, 'channel:join', { channelId: dm, afterSeq: 0 })).ok).toBe(false);
    // Receipts are visible to DM members.
    const receipts = collect(b, 'receipt:updated');
    await emitOk(b, 'channel:join', { channelId: dm });
    await emitOk(a, 'read:mark', { channelId: dm, seq: 1 });
    await eventually(() => receipts.length === 1, 2000, 'receipt');
    expect(receipts[0]).toEqual({ channelId: dm, userId: alice.user.id, seq: 1 });

    await dbOf(node).insertInto('user_blocks').values({ blocker_id: alice.user.id, blocked_id: bob.user.id }).execute();
    const send = await emitAck(b, 'message:send', { channelId: dm, clientId: `dm2-${bob.user.id}`, body: 'hello??' });
    expect(!send.ok && send.error.code).toBe('not_found');
    const rejoin = await emitAck(b, 'channel:join', { channelId: dm, afterSeq: 0 });
    expect(!rejoin.ok && rejoin.error.code).toBe('not_found');
    expect((await call(node, 'GET', `/channels/${dm}/messages`, bob)).status).toBe(404);
    // The blocker keeps the history but cannot write into it either.
    expect((await call<MessagePage>(node, 'GET', `/channels/${dm}/messages`, alice)).body.data).toHaveLength(1);
    const reply = await emitAck(a, 'message:send', { channelId: dm, clientId: `dm3-${alice.user.id}`, body: 'no' });
    expect(!reply.ok && reply.error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/cannot message/) });
  });
});

describe('history over REST', () => {
  it('pages by seq in both directions with hasMore', async () => {
    const alice = await registerUser(node.url);
    const { channels } = await communityWith(alice);
    const a = await socketFor(alice.accessToken);
    for (let i = 1; i <= 7; i++) await emitOk(a, 'message:send', { channelId: channels.general, clientId: `h${i}-${alice.user.id}`, body: `m${i}` });
    const get = (q: string) => call<MessagePage>(node, 'GET', `/channels/${channels.general}/messages?${q}`, alice);
    const latest = await get('limit=3');
    expect(latest.body.data.map((m) => m.body)).toEqual(['m5', 'm6', 'm7']);
    expect(latest.body.hasMore).toBe(true);
    const older = await get('beforeSeq=5&limit=3');
    expect(older.body.data.map((m) => m.seq)).toEqual([2, 3, 4]);
    const after = await get('afterSeq=4&limit=10');
    expect(after.body.data.map((m) => m.seq)).toEqual([5, 6, 7]);
    expect(after.body.hasMore).toBe(false);
    expect((await get('limit=101')).status).toBe(400);
  });
});

describe('channel:added', () => {
  it('tells people live when a DM is opened with them, a public channel appears, or they are added to a private one', async () => {
    const owner = await registerUser(node.url);
    const member = await registerUser(node.url);
    const { communityId } = await seedCommunity(node, {
      members: [{ userId: owner.user.id, role: 'owner' }, { userId: member.user.id }],
      channels: [],
    });
    const s = await socketFor(member.accessToken);
    const added = collect(s, 'channel:added');

    const dm = await call<ChannelEnvelope>(node, 'POST', '/dms', owner, { userIds: [member.user.id] });
    expect(dm.status).toBe(201);
    await eventually(() => added.length === 1, 2000, 'DM announced');
    expect(added[0]).toEqual({ channelId: dm.body.channel.id, communityId: null });
    // Opening the same DM again is not news.
    expect((await call(node, 'POST', '/dms', owner, { userIds: [member.user.id] })).status).toBe(200);

    const pub = await call<ChannelEnvelope>(node, 'POST', `/communities/${communityId}/channels`, owner, { name: 'announcements' });
    expect(pub.status).toBe(201);
    await eventually(() => added.length === 2, 2000, 'public channel announced');
    expect(added[1]).toEqual({ channelId: pub.body.channel.id, communityId });

    const priv = await call<ChannelEnvelope>(node, 'POST', `/communities/${communityId}/channels`, owner, { name: 'inner-circle', visibility: 'private' });
    await new Promise((r) => setTimeout(r, 150));
    expect(added).toHaveLength(2); // a private channel is not announced to those who cannot read it
    expect((await call(node, 'POST', `/channels/${priv.body.channel.id}/members`, owner, { userId: member.user.id })).status).toBe(204);
    await eventually(() => added.length === 3, 2000, 'added to the private channel');
    expect(added[2]).toEqual({ channelId: priv.body.channel.id, communityId });
  });
});
