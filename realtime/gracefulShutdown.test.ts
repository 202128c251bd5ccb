import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MessageDto } from '../contracts/chat.ts';
import type { AckResult } from '../contracts/errors.ts';
import { ChannelReplica, follow, seedCommunity } from '../test/communities.ts';
import { collect, connectSocket, emitOk, eventually, registerUser, type ClientSocket } from '../test/factories.ts';
import { dbOf, startCluster, type RunningNode } from '../test/nodes.ts';

const HANDOVER_MS = 1000;

type Outcome = { kind: 'ok'; message: MessageDto; at: number } | { kind: 'refused'; code: string } | { kind: 'no_answer' };

/** Sends one message and reports how it ended: acked, refused (with the code), or no answer before the socket went. */
function send(socket: ClientSocket, channelId: string, clientId: string): Promise<Outcome> {
  return new Promise((resolve) => {
    socket.timeout(10_000).emit('message:send', { channelId, clientId, body: clientId }, (err: Error | null, res?: AckResult<MessageDto>) => {
      if (err || !res) resolve({ kind: 'no_answer' });
      else if (res.ok) resolve({ kind: 'ok', message: res.data, at: Date.now() });
      else resolve({ kind: 'refused', code: res.error.code });
    });
  });
}

describe.skipIf(!inject('redisUrl'))('a node shutting down gracefully (needs Redis)', () => {
  let nodes: RunningNode[];
  let close: () => Promise<void>;
  const sockets: ClientSocket[] = [];
  const open = async (node: RunningNode, token: string) => {
    const socket = await connectSocket(node.url, token);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    ({ nodes, close } = await startCluster(3, {
      env: { RATE_LIMIT_MESSAGES_PER_10S: '100000', RATE_LIMIT_EVENTS_PER_10S: '100000', SHUTDOWN_HANDOVER_MS: String(HANDOVER_MS) },
    }));
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await close?.();
  });

  it('acks the sends it had accepted, refuses later ones as unavailable without storing them, and resends on the other node store each message once', async () => {
    const [nodeA, nodeB] = nodes as [RunningNode, RunningNode, RunningNode];
    const users = await Promise.all([registerUser(nodeA.url), registerUser(nodeA.url), registerUser(nodeB.url)]);
    const { channels } = await seedCommunity(nodeA, { members: users.map((u) => ({ userId: u.user.id })), channels: [{ name: 'general' }] });
    const channelId = channels.general!;
    const senders = await Promise.all(users.slice(0, 2).map((u) => open(nodeA, u.accessToken)));
    const watcher = await open(nodeB, users[2]!.accessToken);
    const replica = new ChannelReplica();
    follow(watcher, replica);
    for (const s of [...senders, watcher]) await emitOk(s, 'channel:join', { channelId, afterSeq: 0 });
    const told = senders.map((s) => collect(s, 'server:shutdown'));
    const dropped = senders.map((s) => new Promise<string>((resolve) => s.once('disconnect', resolve)));

    // A burst from both senders; once node A has stored the first of them, it is told to shut down while the rest
    // are in flight.
    // A second burst follows as the shutdown begins: it arrives while node A drains, or after its sockets closed.
    const first = 150;
    const perSender = first + 50;
    const clientIdOf = (s: number, i: number) => `shutdown-${s}-${i}-${users[s]!.user.id}`;
    const outcomes = senders.map((socket, s) => Array.from({ length: first }, (_, i) => send(socket, channelId, clientIdOf(s, i))));
    await eventually(() => replica.lastSeq > 0, 5000, 'the first message of the burst to be stored');
    const closeStartedAt = Date.now();
    const closing = nodeA.node.close();
    senders.forEach((socket, s) => outcomes[s]!.push(...Array.from({ length: perSender - first }, (_, i) => send(socket, channelId, clientIdOf(s, first + i)))));
    await closing;
    const settled = await Promise.all(outcomes.map((list) => Promise.all(list)));

    // Every client was told, and its connection closed as a transport close: socket.io-client reconnects by itself.
    expect(told.map((t) => t.length)).toEqual([1, 1]);
    expect(await Promise.all(dropped)).toEqual(['transport close', 'transport close']);
    const all = settled.flat();
    const okAfterClose = all.filter((o) => o.kind === 'ok' && o.at >= closeStartedAt).length;
    const refused = all.filter((o): o is Extract<Outcome, { kind: 'refused' }> => o.kind === 'refused');
    // Sends being handled when the shutdown began were finished and acked (not cut off), and the only refusal is
    // `unavailable` (no `internal`).
    expect(okAfterClose).toBeGreaterThan(0);
    expect(new Set(refused.map((r) => r.code))).toEqual(new Set(refused.length ? ['unavailable'] : []));

    // Nothing refused was stored (not even later), and what was acked is stored as acked.
    const stored = await dbOf(nodeB).selectFrom('messages').select(['id', 'client_id']).where('channel_id', '=', channelId).execute();
    const storedIds = new Map(stored.map((r) => [r.client_id, r.id]));
    settled.forEach((list, s) =>
      list.forEach((o, i) => {
        if (o.kind === 'refused') expect(storedIds.has(clientIdOf(s, i))).toBe(false);
        if (o.kind === 'ok') expect(storedIds.get(clientIdOf(s, i))).toBe(o.message.id);
      }),
    );

    // The clients move to node B and send again, with the same clientIds, whatever was not acked.
    const movers = await Promise.all(users.slice(0, 2).map((u) => open(nodeB, u.accessToken)));
    await Promise.all(
      settled.map((list, s) =>
        Promise.all(list.map((o, i) => (o.kind === 'ok' ? null : emitOk(movers[s]!, 'message:send', { channelId, clientId: clientIdOf(s, i), body: clientIdOf(s, i) })))),
      ),
    );
    const total = 2 * perSender;
    await eventually(() => replica.lastSeq === total, 5000, 'the watcher to have every message');
    expect(replica.applied).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(replica.duplicates).toBe(0);
    const [{ count }] = (await dbOf(nodeB)
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('channel_id', '=', channelId)
      .execute()) as [{ count: string }];
    expect(Number(count)).toBe(total);
  });
  it('hands its clients over a slice at a time, serving the ones not handed over yet as usual', async () => {
    const [, nodeB, nodeC] = nodes as [RunningNode, RunningNode, RunningNode];
    const users = await Promise.all(Array.from({ length: 11 }, () => registerUser(nodeB.url)));
    const { channels } = await seedCommunity(nodeB, { members: users.map((u) => ({ userId: u.user.id })), channels: [{ name: 'general' }] });
    const channelId = channels.general!;
    const watcher = await open(nodeB, users[10]!.accessToken);
    const replica = new ChannelReplica();
    follow(watcher, replica);
    await emitOk(watcher, 'channel:join', { channelId, afterSeq: 0 });
    // Ten clients on node C, connected one after the other (they are handed over in that order).
    const clients: ClientSocket[] = [];
    for (const u of users.slice(0, 10)) clients.push(await open(nodeC, u.accessToken));
    for (const c of clients) await emitOk(c, 'channel:join', { channelId, afterSeq: 0 });
    const droppedAt = clients.map((c) => new Promise<number>((resolve) => c.once('disconnect', () => resolve(Date.now()))));

    const closing = nodeC.node.close();
    const firstGone = await Promise.race(droppedAt);
    // The last client is still on node C, and still served: its message is stored and acked there.
    const last = clients[9]!;
    expect(last.connected).toBe(true);
    const sent = await send(last, channelId, `handover-${users[9]!.user.id}`);
    expect(sent.kind).toBe('ok');
    await closing;
    const times = await Promise.all(droppedAt);
    // Spread over the handover (a slice every 100 ms), not all at once.
    expect(Math.max(...times) - firstGone).toBeGreaterThanOrEqual(HANDOVER_MS / 2);
    await eventually(() => replica.lastSeq === 1, 3000, 'the watcher on node B to get the message');
  });
});
