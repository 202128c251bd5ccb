import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MessageDto, MessagePage } from '../contracts/chat.ts';
import { ChannelReplica, follow, seedCommunity } from '../test/communities.ts';
import { call, collect, connectSocket, emitAck, emitOk, eventually, registerUser, type ClientSocket } from '../test/factories.ts';
import { startCluster, type RunningNode } from '../test/nodes.ts';

/** How long the catch-up client stays away while others keep talking; CHAT_OFFLINE_MS=30000 for the full-length run. */
const OFFLINE_MS = Number(process.env.CHAT_OFFLINE_MS ?? 3000);

describe.skipIf(!inject('redisUrl'))('chat across two nodes (needs Redis)', () => {
  let nodes: RunningNode[];
  let close: () => Promise<void>;
  const sockets: ClientSocket[] = [];
  const open = async (node: RunningNode, token: string) => {
    const socket = await connectSocket(node.url, token);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    ({ nodes, close } = await startCluster(2, { env: { RATE_LIMIT_MESSAGES_PER_10S: '10000', RATE_LIMIT_EVENTS_PER_10S: '100000' } }));
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await close?.();
  });

  async function room(size: number) {
    const users = await Promise.all(Array.from({ length: size }, (_, i) => registerUser(nodes[i % 2]!.url)));
    const { channels } = await seedCommunity(nodes[0]!, {
      members: users.map((u, i) => ({ userId: u.user.id, role: i === 0 ? ('moderator' as const) : ('member' as const) })),
      channels: [{ name: 'general' }],
    });
    return { users, channelId: channels.general };
  }

  it('delivers every message from node A to receivers on node B exactly once, in seq order, without gaps', async () => {
    const { users, channelId } = await room(4);
    const sender = await open(nodes[0]!, users[0]!.accessToken);
    const receivers = await Promise.all(users.slice(1).map((u, i) => open(nodes[i === 2 ? 0 : 1]!, u.accessToken)));
    const seen = receivers.map((r) => collect(r, 'message:created'));
    const replicas = receivers.map((r) => {
      const replica = new ChannelReplica();
      follow(r, replica);
      return replica;
    });
    for (const s of [sender, ...receivers]) await emitOk(s, 'channel:join', { channelId, afterSeq: 0 });

    const total = 120;
    const acks: MessageDto[] = [];
    for (let burst = 0; burst < total / 20; burst++) {
      acks.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            emitOk(sender, 'message:send', { channelId, clientId: `c-${burst}-${i}-${users[0]!.user.id}`, body: `burst ${burst} #${i}` }),
          ),
        )),
      );
    }
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    expect(acks.map((m) => m.seq).sort((a, b) => a - b)).toEqual(expected);
    await eventually(() => seen.every((s) => s.length >= total), 5000, 'all deliveries on both nodes');
    for (const [i, s] of seen.entries()) {
      // Every seq arrives exactly once; concurrent commits may publish neighbours a moment apart in either order,
      // and the replica (like the web client) applies them strictly by seq.
      expect(s.map((e) => e.seq).sort((a, b) => a - b)).toEqual(expected);
      expect(replicas[i]!.applied).toEqual(expected);
      expect(replicas[i]!.pending.size).toBe(0);
      expect(replicas[i]!.duplicates).toBe(0);
    }
  });

  it('members joining while messages stream in end with every message, even the last ones, with no later event to reveal a gap', async () => {
    const { users, channelId } = await room(31);
    const sender = await open(nodes[0]!, users[0]!.accessToken);
    await emitOk(sender, 'channel:join', { channelId, afterSeq: 0 });
    const total = 150;
    const stream = (async () => {
      for (let i = 0; i < total; i += 5) {
        await Promise.all(
          Array.from({ length: 5 }, (_, k) => emitOk(sender, 'message:send', { channelId, clientId: `stream-${i + k}-${users[0]!.user.id}`, body: `#${i + k}` })),
        );
      }
    })();
    // Thirty members join on the other node one after another while the stream runs, each applying its catch-up and
    // then live events strictly by seq, as the web client does.
    const replicas = await Promise.all(
      users.slice(1).map(async (u, i) => {
        await new Promise((r) => setTimeout(r, i * 15));
        const socket = await open(nodes[1]!, u.accessToken);
        const replica = new ChannelReplica();
        follow(socket, replica);
        const join = await emitOk(socket, 'channel:join', { channelId, afterSeq: 0 });
        for (const event of join.events) replica.apply(event);
        return replica;
      }),
    );
    await stream;
    // Nothing is sent after the stream: a member that missed an event has nothing that would reveal it.
    await eventually(() => replicas.every((r) => r.lastSeq === total), 5000, 'every member to have every message').catch(() => {});
    expect(replicas.map((r) => r.lastSeq)).toEqual(replicas.map(() => total));
    expect(replicas.map((r) => r.pending.size)).toEqual(replicas.map(() => 0));
  });

  it('a retry after a dropped ack (on the other node) returns the stored original, never a duplicate', async () => {
    const { users, channelId } = await room(2);
    const watcher = await open(nodes[1]!, users[1]!.accessToken);
    await emitOk(watcher, 'channel:join', { channelId, afterSeq: 0 });
    const created = collect(watcher, 'message:created');
    const flaky = await open(nodes[0]!, users[0]!.accessToken);
    const input = { channelId, clientId: `dropped-${users[0]!.user.id}`, body: 'did this arrive?' };
    // The client sends and loses its connection around the time the message is stored, so it cannot know whether
    // its ack was lost: it retries on the other node with the same clientId. (Dropping the connection a fixed few ms
    // after sending made the test depend on the machine's speed: on a busy one the send had not left yet.)
    flaky.emit('message:send', input, () => {});
    await eventually(() => created.length === 1, 3000, 'the first attempt to be stored');
    flaky.disconnect();
    const retry = await open(nodes[1]!, users[0]!.accessToken);
    const again = await emitOk(retry, 'message:send', input);
    expect(again.id).toBe(created[0]!.message.id);
    await new Promise((r) => setTimeout(r, 150));
    expect(created).toHaveLength(1);
  });

  it(`a client away for ${OFFLINE_MS} ms while others send, edit, delete and react ends with exactly the state of one that never left`, async () => {
    const { users, channelId } = await room(4);
    const [mod, a, b, traveller] = users as [typeof users[0], typeof users[0], typeof users[0], typeof users[0]];
    const modSocket = await open(nodes[0]!, mod.accessToken);
    const aSocket = await open(nodes[0]!, a.accessToken);
    const bSocket = await open(nodes[1]!, b.accessToken);
    const stayer = new ChannelReplica();
    follow(bSocket, stayer);
    for (const s of [modSocket, aSocket, bSocket]) await emitOk(s, 'channel:join', { channelId, afterSeq: 0 });

    let away = await open(nodes[1]!, traveller.accessToken);
    const traveller1 = new ChannelReplica();
    follow(away, traveller1);
    await emitOk(away, 'channel:join', { channelId, afterSeq: 0 });
    const before = await emitOk(aSocket, 'message:send', { channelId, clientId: `pre-${a.user.id}`, body: 'before the trip' });
    await eventually(() => traveller1.lastSeq === before.seq, 2000, 'traveller to see the first message');

    // The traveller loses the network (the socket drops; nothing more reaches it).
    away.disconnect();
    const deadline = Date.now() + OFFLINE_MS;
    const sent: MessageDto[] = [];
    let i = 0;
    while (Date.now() < deadline || i < 12) {
      const author = i % 2 === 0 ? aSocket : bSocket;
      const authorId = i % 2 === 0 ? a.user.id : b.user.id;
      const msg = await emitOk(author, 'message:send', { channelId, clientId: `away-${i}-${authorId}`, body: `while away ${i}` });
      sent.push(msg);
      if (i % 3 === 1) await emitOk(author, 'message:edit', { messageId: msg.id, body: `while away ${i} (edited)` });
      if (i % 4 === 2) await emitOk(modSocket, 'message:delete', { messageId: sent[i - 1]!.id });
      if (i % 3 === 0) await emitOk(bSocket, 'reaction:toggle', { messageId: before.id, emoji: i % 2 ? '🎉' : '👍' });
      if (i % 5 === 4) await emitOk(aSocket, 'message:send', { channelId, clientId: `reply-${i}-${a.user.id}`, body: 'in thread', replyToId: before.id });
      i++;
      await new Promise((r) => setTimeout(r, Math.min(250, OFFLINE_MS / 12)));
    }
    await emitOk(modSocket, 'message:delete', { messageId: before.id });

    // Back online, on the other node this time: catch up from the last applied seq.
    away = await open(nodes[0]!, traveller.accessToken);
    follow(away, traveller1);
    let join = await emitOk(away, 'channel:join', { channelId, afterSeq: traveller1.lastSeq });
    for (const event of join.events) traveller1.apply(event);
    while (join.hasMore) {
      join = await emitOk(away, 'channel:join', { channelId, afterSeq: traveller1.lastSeq });
      for (const event of join.events) traveller1.apply(event);
    }
    const lastSeq = join.lastSeq;
    await eventually(() => stayer.lastSeq === lastSeq, 5000, 'the stayer to have everything');
    expect(traveller1.lastSeq).toBe(lastSeq);
    expect(traveller1.snapshot()).toEqual(stayer.snapshot());
    // And the same as a fresh reader of the REST history.
    const history: MessageDto[] = [];
    for (let hasMore = true; hasMore; ) {
      const after = history.at(-1)?.seq ?? 0;
      const page = await call<MessagePage>(nodes[1]!, 'GET', `/channels/${channelId}/messages?afterSeq=${after}&limit=100`, mod);
      history.push(...page.body.data);
      hasMore = page.body.hasMore;
    }
    expect(history).toEqual(stayer.snapshot());
    expect(JSON.stringify(traveller1.snapshot())).not.toContain('before the trip');
  }, 120_000);

  it('rejects events for a channel the sender cannot post in, whichever node it arrives on', async () => {
    const { channelId } = await room(2);
    const outsider = await registerUser(nodes[1]!.url);
    const s = await open(nodes[1]!, outsider.accessToken);
    const res = await emitAck(s, 'message:send', { channelId, clientId: `out-${outsider.user.id}`, body: 'hi' });
    expect(!res.ok && res.error.code).toBe('not_found');
  });
});
