import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelEvent } from '$contracts/chat.ts';
import type { UserRef } from '$contracts/communities.ts';
import { ChatClient } from './chat.svelte.ts';
import { connectClient, created, FakeChatServer, joinsOf, microtasks, settle, uuid } from './fakeChatServer.ts';

const ada: UserRef = { id: uuid(), displayName: 'Ada' };
const grace: UserRef = { id: uuid(), displayName: 'Grace' };
const linus: UserRef = { id: uuid(), displayName: 'Linus' };

afterEach(() => {
  vi.useRealTimers();
});

describe('ChannelState: applying channel events', () => {
  it('applies events in seq order and ignores duplicates and stale ones', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const grace_ = connectClient(server, grace);
    const state = grace_.open(id);
    await settle();

    const first = created(id, 1, ada, 'one') as Extract<ChannelEvent, { type: 'message:created' }>;
    const second = created(id, 2, ada, 'two');
    state.handleEvent(first);
    state.handleEvent(second);
    state.handleEvent(first);
    state.handleEvent(second);
    state.handleEvent({ ...first, type: 'message:updated', message: { ...first.message, body: 'stale edit' } });

    expect(state.lastSeq).toBe(2);
    expect(state.messages.map((m) => m.body)).toEqual(['one', 'two']);
    expect(state.unreadCount).toBe(2);
  });

  it('waits briefly for an event that was overtaken instead of catching up', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const client = connectClient(server, grace, { gapGraceMs: 50 });
    const state = client.open(id);
    await settle();
    const joinsBefore = joinsOf(server, client.socket).length;

    state.handleEvent(created(id, 2, ada, 'two'));
    expect(state.lastSeq).toBe(0);
    state.handleEvent(created(id, 1, ada, 'one'));
    expect(state.lastSeq).toBe(2);
    expect(state.messages.map((m) => m.body)).toEqual(['one', 'two']);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(joinsOf(server, client.socket).length).toBe(joinsBefore);
  });

  it('catches up through channel:join from the last applied seq when events go missing', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const client = connectClient(server, grace);
    const state = client.open(id);
    await settle();
    expect(joinsOf(server, client.socket)).toEqual([0]);

    server.send(ada, id, 'one');
    await settle();
    client.socket.held = [];
    server.send(ada, id, 'two');
    server.send(ada, id, 'three');
    server.send(ada, id, 'four');
    // Only the last broadcast reaches us: seq 4 after seq 1 is a gap.
    client.socket.release((held) => held.slice(-1));
    await settle();

    expect(joinsOf(server, client.socket)).toEqual([0, 1]);
    expect(state.lastSeq).toBe(4);
    expect(state.messages).toEqual(server.messages(id));
  });

  it('pages a long absence through repeated joins while the server has more', async () => {
    const server = new FakeChatServer();
    server.joinLimit = 3;
    const { id } = server.createChannel();
    const client = connectClient(server, grace);
    const state = client.open(id);
    await settle();

    client.socket.drop();
    for (let i = 1; i <= 10; i++) server.send(ada, id, `message ${i}`);
    client.socket.connect();
    await settle();

    expect(joinsOf(server, client.socket)).toEqual([0, 0, 3, 6, 9]);
    expect(state.lastSeq).toBe(10);
    expect(state.messages).toEqual(server.messages(id));
  });

  it('falls back to REST history pages when a join cannot replay the missed events in order', async () => {
    const server = new FakeChatServer();
    server.joinLimit = 3;
    server.joinKeeps = 'newest';
    const { id } = server.createChannel();
    const client = connectClient(server, grace);
    const state = client.open(id);
    await settle();

    client.socket.drop();
    for (let i = 1; i <= 10; i++) server.send(ada, id, `message ${i}`);
    client.socket.connect();
    await settle();

    expect(server.historyCalls).toEqual([{ afterSeq: 0, limit: 100 }]);
    expect(state.lastSeq).toBe(10);
    expect(state.messages).toEqual(server.messages(id));
    // Live events carry on from there.
    server.send(ada, id, 'message 11');
    await settle();
    expect(state.messages).toEqual(server.messages(id));
  });

  it('keeps thread counts live and lists a thread root first', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const client = connectClient(server, grace);
    const state = client.open(id);
    await settle();

    const root = server.send(ada, id, 'question');
    server.send(linus, id, 'answer 1', { replyToId: root.id });
    server.send(ada, id, 'answer 2', { replyToId: root.id });
    await settle();

    expect(state.roots.map((m) => m.body)).toEqual(['question']);
    expect(state.message(root.id)?.threadCount).toBe(2);
    expect(state.thread(root.id).map((m) => m.body)).toEqual(['question', 'answer 1', 'answer 2']);
  });
});

describe('ChannelState: reconnect catch-up', () => {
  it('ends with the same state as a replica that never disconnected, edits, deletes and reactions included', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const sender = connectClient(server, ada);
    const steady = connectClient(server, grace);
    const flaky = connectClient(server, linus);
    const senderState = sender.open(id);
    const steadyState = steady.open(id);
    const flakyState = flaky.open(id);
    await settle();

    senderState.send('before');
    await settle();
    const before = senderState.messages[0]!;

    flaky.socket.drop();
    senderState.send('while away 1');
    senderState.send('while away 2');
    await settle();
    const [, away1, away2] = senderState.messages;
    expect(await senderState.edit(before.id, 'before (edited)')).toBeNull();
    expect(await senderState.toggleReaction(away1!.id, '🎉')).toBeNull();
    expect(await steadyState.toggleReaction(away1!.id, '🎉')).toBeNull();
    expect(await senderState.remove(away2!.id)).toBeNull();
    const reply = server.send(grace, id, 'a reply', { replyToId: before.id });
    await settle();
    expect(flakyState.lastSeq).toBe(1);

    flaky.socket.connect();
    await settle();

    expect(flakyState.lastSeq).toBe(server.channelDto(id).lastSeq);
    expect(flakyState.messages).toEqual(steadyState.messages);
    expect(flakyState.messages).toEqual(server.messages(id));
    expect(flakyState.message(before.id)).toMatchObject({ body: 'before (edited)', threadCount: 1 });
    expect(flakyState.message(away1!.id)?.reactions).toEqual([{ emoji: '🎉', count: 2, userIds: [ada.id, grace.id] }]);
    expect(flakyState.message(away2!.id)).toMatchObject({ body: '' });
    expect(flakyState.message(away2!.id)?.deletedAt).not.toBeNull();
    expect(flakyState.message(reply.id)?.body).toBe('a reply');
    expect(senderState.messages).toEqual(server.messages(id));
  });

  it('abandons a join whose ack died with the connection and catches up right after reconnecting', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const client = connectClient(server, grace, { ackTimeoutMs: 10_000 });
    const state = client.open(id);
    await settle();
    server.send(ada, id, 'one');
    await settle();

    client.socket.held = [];
    server.send(ada, id, 'two');
    server.send(ada, id, 'three');
    client.socket.release((held) => held.slice(-1));
    // The gap catch-up's join goes out, then the connection drops before its ack.
    client.socket.drop();
    await settle();
    expect(state.syncing).toBe(true);

    client.socket.connect();
    await settle();
    expect(state.syncing).toBe(false);
    expect(state.messages).toEqual(server.messages(id));
  });
});

describe('ChannelState: snapshots, acks and badges', () => {
  it('replays events that land while a history page is loading onto that page', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const old = server.send(ada, id, 'old message');
    let releaseHistory!: () => void;
    const client = server.connect(grace);
    const chat = new ChatClient({
      me: grace,
      // The page is read now but answered only after an edit and a reaction happened.
      fetchHistory: async (channelId, query) => {
        const page = structuredClone(server.history(channelId, query));
        await new Promise<void>((resolve) => (releaseHistory = resolve));
        return page;
      },
      fetchThread: async (messageId) => server.thread(messageId),
      gapGraceMs: 0,
    });
    chat.attach(client.asChatSocket());
    client.connect();
    const state = chat.open(server.channelDto(id));
    await settle();

    const loading = state.loadLatest();
    await settle();
    server.edit(old.id, 'old message (edited)');
    server.toggleReaction(linus, old.id, '👍');
    await settle();
    releaseHistory();
    await loading;

    expect(state.messages).toEqual(server.messages(id));
    expect(state.hasOlder).toBe(false);
  });

  it('ignores the ack of an edit when a newer event about that message was already applied', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const client = connectClient(server, ada);
    const state = client.open(id);
    await settle();
    state.send('draft');
    await settle();
    const message = state.messages[0]!;

    server.ackDelayMs = 20;
    const editing = state.edit(message.id, 'final');
    await microtasks();
    expect(state.message(message.id)?.body).toBe('final');
    // Someone reacts right after the edit, and that event beats the ack (which carries the message without it).
    server.toggleReaction(grace, message.id, '👀');
    expect(await editing).toBeNull();
    await settle();
    expect(state.message(message.id)).toMatchObject({ body: 'final', reactions: [{ emoji: '👀', count: 1 }] });
    expect(state.messages).toEqual(server.messages(id));
  });

  it('counts unread and mentions from others once, and marks read up to the last applied seq', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const client = connectClient(server, grace);
    const state = client.open(id);
    await settle();

    server.send(ada, id, 'hi all');
    const mention = server.send(ada, id, '@Grace look', { mentions: [grace.id] });
    server.send(grace, id, 'my own');
    await settle();
    state.handleMention({ messageId: mention.id, seq: mention.seq });
    expect(state.unreadCount).toBe(2);
    expect(state.mentionCount).toBe(1);

    state.markRead();
    expect(state.unreadCount).toBe(0);
    await settle();
    expect(server.calls.filter((c) => c.event === 'read:mark').map((c) => c.payload)).toEqual([{ channelId: id, seq: 3 }]);
    state.markRead();
    expect(server.calls.filter((c) => c.event === 'read:mark')).toHaveLength(1);

    // Another device of ours read further.
    state.handleReadUpdated({ channelId: id, seq: 3, unreadCount: 0, mentionCount: 0 });
    expect(state.mentionCount).toBe(0);
  });

  it('treats a refused join as losing access', async () => {
    const server = new FakeChatServer();
    const client = connectClient(server, grace);
    const state = client.chat.open({ ...server.channelDto(server.createChannel().id), id: uuid() });
    await settle();
    expect(state.removed).toBe(true);
    expect(state.send('hello?')).toMatch(/no longer have access/);
  });
});

