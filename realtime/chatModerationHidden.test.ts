import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MessageList, MessagePage } from '../contracts/chat.ts';
import type { ChannelList } from '../contracts/communities.ts';
import { moderateMessage } from '../domain/chat/moderation.ts';
import { db } from '../orm/db.ts';
import { ChannelReplica, follow, seedCommunity } from '../test/communities.ts';
import {
  call,
  collect,
  connectSocket,
  emitAck,
  emitOk,
  eventually,
  registerUser,
  registerUsers,
  type ClientSocket,
  type TestUser,
} from '../test/factories.ts';
import { startCluster, type RunningNode } from '../test/nodes.ts';

/*
 * Hidden messages: a moderator's hide reaches every node as a tombstone, and no read path — REST history, threads,
 * catch-up on join, search, mention counts — gives members the content; the community's moderators still read it,
 * marked hidden.
 */
describe.skipIf(!inject('redisUrl'))('hidden messages across two nodes (needs Redis)', () => {
  let nodes: [RunningNode, RunningNode];
  let close: () => Promise<void>;
  const sockets: ClientSocket[] = [];
  const open = async (node: RunningNode, user: TestUser) => {
    const socket = await connectSocket(node.url, user.accessToken);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    const cluster = await startCluster(2, { env: { RATE_LIMIT_MESSAGES_PER_10S: '1000', RATE_LIMIT_EVENTS_PER_10S: '10000' } });
    nodes = cluster.nodes as [RunningNode, RunningNode];
    close = cluster.close;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await close?.();
  });

  /** What the console does: moderate inside its own transaction, publish after commit. */
  async function moderate(messageId: string, change: { hide?: boolean; delete?: boolean }, moderator: TestUser) {
    const node = nodes[0].node;
    const result = await node.orm.em.fork().transactional((tx) => moderateMessage(node.deps, db(tx), messageId, change, moderator.user.id));
    await result.publish();
    return result;
  }

  it('members get a tombstone everywhere; moderators get the content with the marker', async () => {
    const [moderator, author] = await registerUsers(nodes[0].url, 2);
    const reader = await registerUser(nodes[0].url, { displayName: `Reader ${author.user.id.slice(0, 6)}` });
    const { communityId, channels } = await seedCommunity(nodes[0], {
      members: [{ userId: moderator.user.id, role: 'moderator' }, { userId: author.user.id }, { userId: reader.user.id }],
      channels: [{ name: 'general' }],
    });
    const channelId = channels.general;
    const authorSocket = await open(nodes[0], author);
    const readerSocket = await open(nodes[1], reader);
    const modSocket = await open(nodes[0], moderator);
    const live = new ChannelReplica();
    follow(readerSocket, live);
    const modUpdates = collect(modSocket, 'message:updated');
    for (const s of [authorSocket, readerSocket, modSocket]) await emitOk(s, 'channel:join', { channelId, afterSeq: 0 });

    const secret = await emitOk(authorSocket, 'message:send', {
      channelId,
      clientId: `secret-${author.user.id}`,
      body: `secretword for @${reader.user.displayName}`,
    });
    await emitOk(readerSocket, 'reaction:toggle', { messageId: secret.id, emoji: '👀' });
    await emitOk(readerSocket, 'message:send', { channelId, clientId: `reply-${reader.user.id}`, body: 'a reply', replyToId: secret.id });
    const unread = async () =>
      (await call<ChannelList>(nodes[1], 'GET', `/communities/${communityId}/channels`, reader)).body.data.find((c) => c.id === channelId)!.mentionCount;
    expect(await unread()).toBe(1);

    const hidden = await moderate(secret.id, { hide: true }, moderator);
    expect(hidden).toMatchObject({
      communityId,
      channelId,
      authorId: author.user.id,
      before: { hidden: false, deleted: false, body: secret.body },
      after: { hidden: true, deleted: false, body: secret.body },
    });

    // Live, on both nodes: the room (moderators included) gets the tombstone.
    await eventually(() => live.lastSeq === 4 && modUpdates.length === 1, 3000, 'the hide event on both nodes');
    const tombstone = { id: secret.id, body: '', hidden: true, reactions: [], mentions: [], deletedAt: null };
    expect(live.messages.get(secret.id)).toMatchObject(tombstone);
    expect(JSON.stringify(modUpdates)).not.toContain('secretword');

    // REST history and thread, on the other node.
    const history = await call<MessagePage>(nodes[1], 'GET', `/channels/${channelId}/messages?afterSeq=0`, reader);
    expect(history.body.data[0]).toMatchObject(tombstone);
    expect(history.body.data).toEqual(live.snapshot());
    const thread = await call<MessageList>(nodes[1], 'GET', `/messages/${secret.id}/thread`, reader);
    expect(thread.body.data.map((m) => m.body)).toEqual(['', 'a reply']);
    const modHistory = await call<MessagePage>(nodes[1], 'GET', `/channels/${channelId}/messages?afterSeq=0`, moderator);
    expect(modHistory.body.data[0]).toMatchObject({ body: secret.body, hidden: true });
    expect((await call<MessageList>(nodes[1], 'GET', `/messages/${secret.id}/thread`, moderator)).body.data[0]).toMatchObject({ body: secret.body, hidden: true });

    // Catch-up on join replays every event as the message is now: nothing of it for the member.
    const readerJoin = await emitOk(readerSocket, 'channel:join', { channelId, afterSeq: 0 });
    expect(JSON.stringify(readerJoin.events)).not.toContain('secretword');
    expect(JSON.stringify(readerJoin.events)).not.toContain('👀');
    const replayed = new ChannelReplica();
    for (const event of readerJoin.events) replayed.apply(event);
    expect(replayed.snapshot()).toEqual(live.snapshot());
    const modJoin = await emitOk(await open(nodes[1], moderator), 'channel:join', { channelId, afterSeq: 0 });
    const modCreated = modJoin.events.find((e) => e.type === 'message:created' && e.message.id === secret.id);
    expect(modCreated).toMatchObject({ message: { body: secret.body, hidden: true } });

    // Search: members never find it; its moderators do, marked.
    const search = (user: TestUser) => call<MessageList>(nodes[1], 'GET', '/search/messages?q=secretword', user);
    expect((await search(reader)).body.data).toEqual([]);
    expect((await search(author)).body.data).toEqual([]);
    expect((await search(moderator)).body.data).toMatchObject([{ id: secret.id, hidden: true, body: secret.body }]);

    // Nobody is pointed at it any more, and it takes no new reactions or edits.
    expect(await unread()).toBe(0);
    expect(await emitAck(readerSocket, 'reaction:toggle', { messageId: secret.id, emoji: '👍' })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await emitAck(authorSocket, 'message:edit', { messageId: secret.id, body: 'sneaky' })).toMatchObject({ ok: false, error: { code: 'conflict' } });

    // Unhidden: back for everyone, mention included (without a second notification).
    const mentionsAfter = collect(readerSocket, 'mention:created');
    const shown = await moderate(secret.id, { hide: false }, moderator);
    expect(shown.after).toMatchObject({ hidden: false });
    await eventually(() => live.messages.get(secret.id)?.hidden === false, 3000, 'the unhide event');
    expect(live.messages.get(secret.id)).toMatchObject({ body: secret.body, reactions: [{ emoji: '👀' }], mentions: [reader.user.id] });
    expect(await unread()).toBe(1);
    expect((await search(reader)).body.data).toHaveLength(1);
    expect(mentionsAfter).toEqual([]);
  });

  it('a moderator delete is a tombstone with its own seq; changes that change nothing take none', async () => {
    const [moderator, author, reader] = await registerUsers(nodes[0].url, 3);
    const { channels } = await seedCommunity(nodes[0], {
      members: [{ userId: moderator.user.id, role: 'moderator' }, { userId: author.user.id }, { userId: reader.user.id }],
      channels: [{ name: 'general' }],
    });
    const channelId = channels.general;
    const readerSocket = await open(nodes[1], reader);
    const live = new ChannelReplica();
    follow(readerSocket, live);
    await emitOk(readerSocket, 'channel:join', { channelId, afterSeq: 0 });
    const authorSocket = await open(nodes[0], author);
    const message = await emitOk(authorSocket, 'message:send', { channelId, clientId: `gone-${author.user.id}`, body: 'to be removed' });

    const both = await moderate(message.id, { hide: true, delete: true }, moderator);
    expect(both.before).toEqual({ body: 'to be removed', hidden: false, deleted: false });
    expect(both.after).toEqual({ body: '', hidden: true, deleted: true });
    await eventually(() => live.lastSeq === 3, 3000, 'hide and delete events');
    expect(live.messages.get(message.id)).toMatchObject({ body: '', deletedAt: expect.any(String) });

    const again = await moderate(message.id, { hide: true, delete: true }, moderator);
    expect(again.after).toEqual(again.before);
    const join = await emitOk(readerSocket, 'channel:join', { channelId, afterSeq: 0 });
    expect(join.lastSeq).toBe(3);
    expect(join.events.map((e) => e.type)).toEqual(['message:created', 'message:updated', 'message:deleted']);
    expect(JSON.stringify(join.events)).not.toContain('to be removed');
  });
});
