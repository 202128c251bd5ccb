import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../orm/db.ts';
import type { Actor } from '../shared/deps.ts';
import { eventually, registerUser } from '../../test/factories.ts';
import { seedCommunity } from '../../test/communities.ts';
import { startNode, statementsDuring, type RunningNode } from '../../test/nodes.ts';
import { createSendBatcher } from './sendBatcher.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

const actorOf = (u: { user: { id: string }; sessionId: string }): Actor => ({ userId: u.user.id, sessionId: u.sessionId, role: 'user' });

describe('send batcher', () => {
  it('stores a mixed batch in one go: each message gets its own outcome and seqs stay gapless per channel', async () => {
    const alice = await registerUser(node.url, { displayName: 'Batch Alice' });
    const bob = await registerUser(node.url, { displayName: 'Batch Bob' });
    const outsider = await registerUser(node.url);
    const { channels } = await seedCommunity(node, {
      members: [{ userId: alice.user.id }, { userId: bob.user.id }],
      channels: [{ name: 'one' }, { name: 'two' }],
    });
    const batcher = createSendBatcher(node.node.deps, { maxDelayMs: 50 });
    const a = actorOf(alice);
    const b = actorOf(bob);
    const root = await batcher.send(a, { channelId: channels.one!, clientId: `root-${a.userId}`, body: 'root' });
    const results = await Promise.allSettled([
      batcher.send(a, { channelId: channels.one!, clientId: `a1-${a.userId}`, body: 'first @Batch Bob' }),
      batcher.send(b, { channelId: channels.two!, clientId: `b1-${b.userId}`, body: 'in two' }),
      batcher.send(actorOf(outsider), { channelId: channels.one!, clientId: `x-${outsider.user.id}`, body: 'let me in' }),
      batcher.send(b, { channelId: channels.one!, clientId: `b2-${b.userId}`, body: 'reply', replyToId: root.id }),
      batcher.send(a, { channelId: channels.one!, clientId: `a1-${a.userId}`, body: 'first @Batch Bob' }),
      batcher.send(a, { channelId: channels.one!, clientId: `root-${a.userId}`, body: 'root' }),
      batcher.send(a, { channelId: channels.two!, clientId: `a1-${a.userId}`, body: 'same clientId, other channel' }),
    ]);
    const [first, inTwo, refused, reply, duplicate, retry, clash] = results;
    expect(refused).toMatchObject({ status: 'rejected', reason: { code: 'not_found' } });
    expect(clash).toMatchObject({ status: 'rejected', reason: { code: 'conflict' } });
    const ok = (r: PromiseSettledResult<any>) => (r.status === 'fulfilled' ? r.value : undefined);
    expect(ok(duplicate).id).toBe(ok(first).id);
    expect(ok(retry).id).toBe(root.id);
    expect(ok(first).mentions).toEqual([bob.user.id]);
    expect(ok(reply).replyToId).toBe(root.id);
    expect([root.seq, ok(first).seq, ok(reply).seq].sort()).toEqual([1, 2, 3]);
    expect(ok(inTwo).seq).toBe(1);
    const q = db(node.node.orm.em.fork());
    const counts = await q
      .selectNoFrom((eb) => [
        eb.selectFrom('messages').select(sql<number>`count(*)::int`.as('n')).where('channel_id', '=', channels.one!).as('messages'),
        eb.selectFrom('channel_events').select(sql<number>`count(*)::int`.as('n')).where('channel_id', '=', channels.one!).as('events'),
        eb.selectFrom('channels').select('last_seq').where('id', '=', channels.one!).as('last_seq'),
        eb.selectFrom('messages').select('thread_count').where('id', '=', root.id).as('thread_count'),
      ])
      .executeTakeFirstOrThrow();
    expect(counts).toEqual({ messages: 3, events: 3, last_seq: 3, thread_count: 1 });
    await batcher.close();
  });

  it('falls back to one-by-one when two nodes race the same clientId, and neither message is lost', async () => {
    const alice = await registerUser(node.url);
    const { channels } = await seedCommunity(node, { members: [{ userId: alice.user.id }], channels: [{ name: 'race' }] });
    const left = createSendBatcher(node.node.deps, { maxDelayMs: 5 });
    const right = createSendBatcher(node.node.deps, { maxDelayMs: 5 });
    const a = actorOf(alice);
    const input = { channelId: channels.race!, clientId: `race-${a.userId}`, body: 'racing' };
    const others = Array.from({ length: 5 }, (_, i) => ({ channelId: channels.race!, clientId: `other-${i}-${a.userId}`, body: `other ${i}` }));
    const settled = await Promise.all([
      left.send(a, input),
      right.send(a, input),
      ...others.map((o, i) => (i % 2 ? left : right).send(a, o)),
    ]);
    expect(settled[1]!.id).toBe(settled[0]!.id);
    const seqs = settled.slice(2).map((m) => m.seq).concat(settled[0]!.seq).sort((x, y) => x - y);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
    await Promise.all([left.close(), right.close()]);
  });

  it('a batch retried message by message keeps each verdict: slow mode is not spent twice', async () => {
    const [alice, bob] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const { channels } = await seedCommunity(node, { members: [{ userId: alice.user.id }, { userId: bob.user.id }], channels: [{ name: 'slow' }] });
    const channelId = channels.slow!;
    const q = db(node.node.orm.em.fork());
    await q.updateTable('channels').set({ slow_mode_seconds: 600 }).where('id', '=', channelId).execute();
    const batcher = createSendBatcher(node.node.deps, { maxDelayMs: 5 });

    // Another writer holds the channel and, before committing, stores Alice's clientId: the batch judges both
    // messages, waits for the channel, then fails on the duplicate and falls back to one by one.
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => (commit = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const writer = node.node.orm.em.fork().transactional(async (tx) => {
      const w = db(tx);
      const { last_seq } = await w
        .updateTable('channels')
        .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
        .where('id', '=', channelId)
        .returning('last_seq')
        .executeTakeFirstOrThrow();
      await w
        .insertInto('messages')
        .values({
          id: crypto.randomUUID(),
          channel_id: channelId,
          seq: last_seq,
          author_id: alice.user.id,
          client_id: `dup-${alice.user.id}`,
          body: 'first copy',
        })
        .execute();
      locked();
      await committed;
    });
    await holding;
    const sends = Promise.allSettled([
      batcher.send(actorOf(alice), { channelId, clientId: `dup-${alice.user.id}`, body: 'first copy' }),
      batcher.send(actorOf(bob), { channelId, clientId: `bob-${bob.user.id}`, body: 'my one message' }),
    ]);
    const waitingForChannel = async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(q);
      return rows[0]!.n > 0;
    };
    await eventually(waitingForChannel, 5000, 'the batch to wait for the channel');
    commit();
    await writer;
    const [aliceResult, bobResult] = await sends;
    expect(aliceResult).toMatchObject({ status: 'fulfilled', value: { body: 'first copy', seq: 1 } });
    expect(bobResult).toMatchObject({ status: 'fulfilled', value: { body: 'my one message', seq: 2 } });
    await batcher.close();
  });

  it('stores a batch in the same few statements whatever its size: nothing is done message by message', async () => {
    const [alice, bob] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const { channels } = await seedCommunity(node, {
      members: [{ userId: alice.user.id }, { userId: bob.user.id }],
      channels: [{ name: 'x' }, { name: 'y' }, { name: 'z' }],
    });
    const batcher = createSendBatcher(node.node.deps, { maxDelayMs: 50 });
    const [a, b] = [actorOf(alice), actorOf(bob)];
    const root = await batcher.send(a, { channelId: channels.x!, clientId: `root-${a.userId}`, body: 'root' });

    // Counted in the batcher's own context: the notification job the replies queue runs on this node meanwhile.
    const single = await statementsDuring(
      node,
      () => batcher.send(b, { channelId: channels.x!, clientId: `single-${b.userId}`, body: 'a reply', replyToId: root.id }),
      { ownContextOnly: true },
    );
    const rooms = [channels.x!, channels.y!, channels.z!];
    const sent = await statementsDuring(
      node,
      () =>
        Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            batcher.send(i % 2 ? a : b, {
              channelId: rooms[i % 3]!,
              clientId: `many-${i}-${a.userId}`,
              body: `message ${i}`,
              ...(i % 3 === 0 ? { replyToId: root.id } : {}),
            }),
          ),
        ),
      { ownContextOnly: true },
    );
    // Read at once: retries already stored, access, the community's rules, reply parents; then the one write.
    // No BEGIN or COMMIT: the write is a single statement.
    expect(single).toHaveLength(5);
    expect(single.some((text) => /^(begin|commit)/i.test(text))).toBe(false);
    expect(sent).toHaveLength(single.length);
    await batcher.close();
  });

  it('refuses new messages once closed, after storing what it had', async () => {
    const alice = await registerUser(node.url);
    const { channels } = await seedCommunity(node, { members: [{ userId: alice.user.id }], channels: [{ name: 'closing' }] });
    const batcher = createSendBatcher(node.node.deps, { maxDelayMs: 1000 });
    const pending = batcher.send(actorOf(alice), { channelId: channels.closing!, clientId: `last-${alice.user.id}`, body: 'last words' });
    await batcher.close();
    await expect(pending).resolves.toMatchObject({ seq: 1 });
    await expect(batcher.send(actorOf(alice), { channelId: channels.closing!, clientId: `late-${alice.user.id}`, body: 'late' })).rejects.toMatchObject({
      code: 'unavailable',
    });
  });
});
