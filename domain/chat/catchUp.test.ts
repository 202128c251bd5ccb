import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOIN_CATCH_UP_LIMIT, type JoinResult } from '../../contracts/chat.ts';
import { db } from '../../orm/db.ts';
import { seedDm, seedWorld } from '../../test/communities.ts';
import type { TestUser } from '../../test/factories.ts';
import { dbOf, startNode, statementsDuring, type RunningNode } from '../../test/nodes.ts';
import { authorizeChannel, ChannelPolicy } from '../access/channel.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { createCatchUpCoalescer, type CatchUpRequest } from './catchUp.ts';
import { loadMessages, loadThreadCounts, toEvent } from './presentMessages.ts';
import { joinChannel } from './reading.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

const actorOf = (u: TestUser, role: Actor['role'] = 'user'): Actor => ({ userId: u.user.id, sessionId: u.sessionId, role });

/**
 * A join served on its own, one statement after another, as sockets were served before joins were coalesced: the
 * answer every coalesced join must equal.
 */
async function joinedAlone(actor: Actor, channelId: string, afterSeq?: number): Promise<JoinResult> {
  const em = node.node.orm.em.fork();
  const q = db(em);
  const access = await authorizeChannel(em, actor, channelId, 'read');
  if (afterSeq === undefined) return { channelId, lastSeq: access.lastSeq, events: [], hasMore: false };
  const rows = await q
    .selectFrom('channel_events')
    .select(['seq', 'type', 'message_id'])
    .where('channel_id', '=', channelId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(JOIN_CATCH_UP_LIMIT + 1)
    .execute();
  const hasMore = rows.length > JOIN_CATCH_UP_LIMIT;
  const page = rows.slice(0, JOIN_CATCH_UP_LIMIT);
  const messages = await loadMessages(q, page.map((r) => r.message_id), ChannelPolicy.moderate(actor, access));
  const parents = await loadThreadCounts(q, [...messages.values()].flatMap((m) => (m.replyToId ? [m.replyToId] : [])));
  const events = page.map((row) => toEvent(row.seq, row.type, messages.get(row.message_id)!, parents));
  const lastSeq = hasMore ? events.at(-1)!.seq : Math.max(access.lastSeq, events.at(-1)?.seq ?? 0);
  return { channelId, lastSeq, events, hasMore };
}

/** An outcome comparable across implementations: the result, or the error's code. */
const settle = (join: Promise<JoinResult>) =>
  join.then(
    (value) => ({ ok: true as const, value }),
    (err: { code?: string }) => ({ ok: false as const, code: err.code ?? String(err) }),
  );

/** Appends a channel event (allocating its seq as the send path does) and returns the seq. */
async function appendEvent(channelId: string, type: 'message:created' | 'message:updated' | 'message:deleted' | 'reaction:updated', messageId: string) {
  const q = dbOf(node);
  const { last_seq: seq } = await q
    .updateTable('channels')
    .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
    .where('id', '=', channelId)
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  if (type === 'message:created') await q.updateTable('messages').set({ seq }).where('id', '=', messageId).execute();
  await q.insertInto('channel_events').values({ channel_id: channelId, seq, type, message_id: messageId }).execute();
  return seq;
}

async function post(channelId: string, author: TestUser, body: string, extra: { replyToId?: string; mentions?: TestUser[] } = {}) {
  const q = dbOf(node);
  const id = crypto.randomUUID();
  // A placeholder seq, replaced by the created event's.
  const placeholder = -Math.floor(Math.random() * 1e9);
  await q
    .insertInto('messages')
    .values({ id, channel_id: channelId, seq: placeholder, author_id: author.user.id, client_id: id, body, reply_to_id: extra.replyToId ?? null })
    .execute();
  const seq = await appendEvent(channelId, 'message:created', id);
  if (extra.replyToId) await q.updateTable('messages').set((eb) => ({ thread_count: eb('thread_count', '+', 1) })).where('id', '=', extra.replyToId).execute();
  if (extra.mentions?.length) {
    await q
      .insertInto('message_mentions')
      .values(extra.mentions.map((u) => ({ message_id: id, user_id: u.user.id, channel_id: channelId, seq })))
      .execute();
  }
  return id;
}

async function react(channelId: string, messageId: string, user: TestUser, emoji: string) {
  await dbOf(node).insertInto('message_reactions').values({ message_id: messageId, user_id: user.user.id, emoji }).execute();
  await appendEvent(channelId, 'reaction:updated', messageId);
}

async function hide(channelId: string, messageId: string) {
  await dbOf(node).updateTable('messages').set({ hidden_at: new Date() }).where('id', '=', messageId).execute();
  await appendEvent(channelId, 'message:updated', messageId);
}

async function remove(channelId: string, messageId: string) {
  await dbOf(node).updateTable('messages').set({ deleted_at: new Date() }).where('id', '=', messageId).execute();
  await appendEvent(channelId, 'message:deleted', messageId);
}

/** `count` plain messages by `author` in one statement (and their created events), for channels longer than a page. */
async function postMany(channelId: string, author: TestUser, count: number) {
  await sql`
    with created as (
      insert into messages (id, channel_id, seq, author_id, client_id, body)
      select gen_random_uuid(), c.id, c.last_seq + g, ${author.user.id}::uuid, 'bulk-' || c.id || '-' || (c.last_seq + g), 'bulk ' || (c.last_seq + g)
      from channels c, generate_series(1, ${count}::int) g where c.id = ${channelId}::uuid
      returning id, channel_id, seq
    ), events as (
      insert into channel_events (channel_id, seq, type, message_id) select channel_id, seq, 'message:created', id from created
    )
    update channels set last_seq = last_seq + ${count}::int where id = ${channelId}::uuid`.execute(dbOf(node));
}

describe('coalesced catch-up', () => {
  it('serves a window of joins exactly as joins one at a time would, each with its own view, slice and refusal', async () => {
    const world = await seedWorld(node, {
      people: { owner: 'owner', moderator: 'moderator', reader: 'member', other: 'member', staffer: 'member', outsider: null },
      channels: [{ name: 'general' }, { name: 'staff', visibility: 'private', members: ['owner'] }, { name: 'quiet' }],
    });
    const { owner, moderator, reader, other, staffer, outsider, channels } = world;
    const general = channels.general;
    const root = await post(general, owner, 'welcome **everyone**');
    await post(general, reader, 'a reply', { replyToId: root });
    const secret = await post(general, other, 'the secretword @mention', { mentions: [reader] });
    await react(general, secret, reader, '👀');
    await post(general, reader, 'another reply', { replyToId: root });
    const gone = await post(general, other, 'regrettable');
    await react(general, gone, owner, '👍');
    await hide(general, secret);
    await remove(general, gone);
    await post(general, owner, 'latest https://example.com');
    await post(channels.staff, owner, 'staff only');
    const dm = await seedDm(node, [reader.user.id, other.user.id]);
    await post(dm, other, 'hello in private');
    // Someone who blocked you takes your DM with them away from you.
    const blockedDm = await seedDm(node, [other.user.id, staffer.user.id]);
    await post(blockedDm, staffer, 'hello?');
    await dbOf(node).insertInto('user_blocks').values({ blocker_id: other.user.id, blocked_id: staffer.user.id }).execute();

    const requests: CatchUpRequest[] = [
      { actor: actorOf(moderator), channelId: general, afterSeq: 0 },
      { actor: actorOf(reader), channelId: general, afterSeq: 0 },
      { actor: actorOf(other), channelId: general, afterSeq: 2 },
      { actor: actorOf(staffer), channelId: general, afterSeq: 5 },
      { actor: actorOf(owner), channelId: general, afterSeq: 9 },
      // A platform moderator moderates every channel they read.
      { actor: actorOf(staffer, 'moderator'), channelId: general, afterSeq: 3 },
      { actor: actorOf(reader), channelId: general },
      { actor: actorOf(reader), channelId: general, afterSeq: 1000 },
      { actor: actorOf(outsider), channelId: general, afterSeq: 0 },
      { actor: actorOf(reader), channelId: channels.staff, afterSeq: 0 },
      { actor: actorOf(owner), channelId: channels.staff, afterSeq: 0 },
      { actor: actorOf(reader), channelId: channels.quiet, afterSeq: 0 },
      { actor: actorOf(reader), channelId: dm, afterSeq: 0 },
      { actor: actorOf(staffer), channelId: dm, afterSeq: 0 },
      { actor: actorOf(staffer), channelId: blockedDm, afterSeq: 0 },
      { actor: actorOf(other), channelId: blockedDm, afterSeq: 0 },
      { actor: actorOf(owner), channelId: crypto.randomUUID(), afterSeq: 0 },
      { actor: actorOf(owner), channelId: 'not-a-channel', afterSeq: 0 },
    ];
    const coalescer = createCatchUpCoalescer(node.node.deps, { maxDelayMs: 50 });
    const together = await Promise.all(requests.map((r) => settle(coalescer.join(r.actor, r))));
    for (const [i, r] of requests.entries()) {
      if (r.channelId === 'not-a-channel') continue; // not a uuid: the statement of a join alone fails on it
      expect(together[i], `request ${i}`).toEqual(await settle(joinedAlone(r.actor, r.channelId, r.afterSeq)));
      expect(await settle(joinChannel(node.node.deps, r.actor, r)), `request ${i} through joinChannel`).toEqual(together[i]);
    }

    const [forModerator, forReader, forOther] = together.map((o) => (o.ok ? o.value : undefined));
    expect(forModerator!.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(forModerator!.lastSeq).toBe(10);
    expect(forOther!.events.map((e) => e.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    // The moderator sees the hidden message's content, marked; the member in the same window a tombstone.
    expect(JSON.stringify(forModerator!.events)).toContain('secretword');
    expect(JSON.stringify(forReader!.events)).not.toContain('secretword');
    expect(JSON.stringify(forReader!.events)).not.toContain('👀');
    const created = (o: JoinResult | undefined) => o!.events.find((e) => e.type === 'message:created' && e.message.id === secret);
    expect(created(forModerator)).toMatchObject({ message: { body: 'the secretword @mention', hidden: true, mentions: [reader.user.id] } });
    expect(created(forReader)).toMatchObject({ message: { body: '', hidden: true, mentions: [], reactions: [] } });
    // The deleted message shows nothing of itself to anyone.
    expect(JSON.stringify(forModerator!.events)).not.toContain('regrettable');
    // Thread counts ride on the replies' created events.
    expect(forReader!.events.filter((e) => e.type === 'message:created' && e.thread).map((e) => e.type === 'message:created' && e.thread)).toEqual([
      { parentId: root, threadCount: 2 },
      { parentId: root, threadCount: 2 },
    ]);
    expect(together.slice(7)).toMatchObject([
      { ok: true, value: { events: [], lastSeq: 10, hasMore: false } },
      { ok: false, code: 'not_found' },
      { ok: false, code: 'not_found' },
      { ok: true, value: { events: [{ seq: 1 }], lastSeq: 1 } },
      { ok: true, value: { events: [], lastSeq: 0 } },
      { ok: true, value: { events: [{ seq: 1 }] } },
      { ok: false, code: 'not_found' },
      { ok: false, code: 'not_found' },
      { ok: true, value: { events: [{ seq: 1 }] } },
      { ok: false, code: 'not_found' },
      { ok: false, code: 'not_found' },
    ]);
  });

  it('gives each joiner its own page and hasMore at the limit, joiners more than a page apart included', async () => {
    const { owner, moderator, reader, channels } = await seedWorld(node, {
      people: { owner: 'owner', moderator: 'moderator', reader: 'member' },
      channels: [{ name: 'long' }, { name: 'short' }],
    });
    const long = channels.long;
    await postMany(long, owner, 700);
    const hidden = await post(long, owner, 'hidden in the long channel');
    await hide(long, hidden);
    await postMany(long, owner, 600);
    const lastSeq = 1302;
    await post(channels.short, owner, 'short and sweet');
    const afterSeqs = [0, 1, 100, 499, 500, 501, 650, 700, 701, 702, 801, 802, 1000, 1301, lastSeq, lastSeq + 5];
    const requests: CatchUpRequest[] = [
      ...afterSeqs.map((afterSeq) => ({ actor: actorOf(reader), channelId: long, afterSeq })),
      ...[0, 650, 1300].map((afterSeq) => ({ actor: actorOf(moderator), channelId: long, afterSeq })),
      { actor: actorOf(reader), channelId: channels.short, afterSeq: 0 },
    ];
    const coalescer = createCatchUpCoalescer(node.node.deps, { maxDelayMs: 50 });
    const together = await Promise.all(requests.map((r) => settle(coalescer.join(r.actor, r))));
    for (const [i, r] of requests.entries()) {
      expect(together[i], `afterSeq ${r.afterSeq}`).toEqual(await settle(joinedAlone(r.actor, r.channelId, r.afterSeq)));
    }
    const page = (i: number) => {
      const outcome = together[i]!;
      if (!outcome.ok) throw new Error(`join ${i} failed: ${outcome.code}`);
      return outcome.value;
    };
    expect(page(0)).toMatchObject({ hasMore: true, lastSeq: JOIN_CATCH_UP_LIMIT });
    expect(page(0).events).toHaveLength(JOIN_CATCH_UP_LIMIT);
    expect(page(afterSeqs.indexOf(700))).toMatchObject({ hasMore: true, lastSeq: 700 + JOIN_CATCH_UP_LIMIT });
    // One more than a page left after 801; exactly a page after 802: all of it, and nothing more.
    expect(page(afterSeqs.indexOf(801))).toMatchObject({ hasMore: true, lastSeq: lastSeq - 1 });
    expect(page(afterSeqs.indexOf(802))).toMatchObject({ hasMore: false, lastSeq });
    expect(page(afterSeqs.indexOf(802)).events).toHaveLength(JOIN_CATCH_UP_LIMIT);
    expect(page(afterSeqs.indexOf(1000))).toMatchObject({ hasMore: false, lastSeq });
    expect(page(afterSeqs.indexOf(lastSeq + 5))).toMatchObject({ hasMore: false, lastSeq, events: [] });
    const hiddenFor = (i: number) => page(i).events.find((e) => e.type === 'message:created' && e.message.id === hidden);
    expect(hiddenFor(afterSeqs.indexOf(650))).toMatchObject({ message: { body: '', hidden: true } });
    expect(hiddenFor(afterSeqs.length + 1)).toMatchObject({ message: { body: 'hidden in the long channel', hidden: true } });
  });

  it('costs the same statements for one join of a channel as for many', async () => {
    const world = await seedWorld(node, {
      people: { owner: 'owner', moderator: 'moderator', ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`m${i}`, 'member' as const])) },
      channels: [{ name: 'busy' }],
    });
    const busy = world.channels.busy;
    const root = await post(busy, world.owner, 'root');
    for (let i = 0; i < 8; i++) await post(busy, world.owner, `message ${i}`, i % 3 ? {} : { replyToId: root });
    await hide(busy, root);
    const members = Array.from({ length: 40 }, (_, i) => actorOf((world as unknown as Record<string, TestUser>)[`m${i}`]!));
    const joiners = [actorOf(world.moderator), ...members];
    const coalescer = createCatchUpCoalescer(node.node.deps);
    // What the channel:join handler does: the catch-up, then the read check again once in the room.
    const joinAll = (n: number) =>
      statementsDuring(
        node,
        () =>
          Promise.all(
            joiners.slice(0, n).map(async (actor, i) => {
              await coalescer.join(actor, { channelId: busy, afterSeq: i % 9 });
              await coalescer.authorizeRead(actor, busy);
            }),
          ),
        { ownContextOnly: true },
      );
    const one = await joinAll(1);
    const ten = await joinAll(10);
    const all = await joinAll(joiners.length);
    // Access, the channel's events, the messages (rows, reactions, mentions), thread counts; access again.
    expect(one).toHaveLength(7);
    expect(ten).toHaveLength(one.length);
    expect(all).toHaveLength(one.length);
  });

  it('rechecks access after joining the room and fails every waiting join, not hangs, when its batch fails', async () => {
    const { owner, reader, communityId, channels } = await seedWorld(node, { people: { owner: 'owner', reader: 'member' }, channels: [{ name: 'room' }] });
    const coalescer = createCatchUpCoalescer(node.node.deps);
    await expect(coalescer.authorizeRead(actorOf(reader), channels.room)).resolves.toEqual(expect.any(Number));
    await dbOf(node).deleteFrom('community_members').where('community_id', '=', communityId).where('user_id', '=', reader.user.id).execute();
    await expect(coalescer.authorizeRead(actorOf(reader), channels.room)).rejects.toMatchObject({ code: 'not_found' });

    const failing = createCatchUpCoalescer({
      ...node.node.deps,
      orm: {
        em: {
          fork() {
            throw new Error('connection refused');
          },
        },
      },
    } as unknown as Deps);
    const outcomes = await Promise.all([
      settle(failing.join(actorOf(owner), { channelId: channels.room, afterSeq: 0 })),
      settle(failing.join(actorOf(reader), { channelId: channels.room })),
    ]);
    expect(outcomes).toEqual([
      { ok: false, code: 'unavailable' },
      { ok: false, code: 'unavailable' },
    ]);
  });
});
