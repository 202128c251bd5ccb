import { sql } from 'kysely';
import type { MessageDto, SendMessageInput } from '../../contracts/chat.ts';
import type { UserRef } from '../../contracts/communities.ts';
import { db, uuids, type Db } from '../../orm/db.ts';
import { AppError, dependencyFailure, dependencyUnavailable, isUniqueViolation } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { loadContributionRules, type ContributionVerdict } from '../moderation/enforcement.ts';
import { openAutomodCase } from '../moderation/cases.ts';
import { accessKey, checkChannelAccess, loadChannelAccessMany, type ChannelAccess } from '../access/channel.ts';
import { resolveMentions } from './mentions.ts';
import { writeMessages } from './batchWrites.ts';
import { createGroup, type GroupOptions } from '../shared/groupCommit.ts';
import { authorRef, createdEvent, loadMessages, messageHtmlField } from './presentMessages.ts';
import '../notifications/events.ts';

interface Pending {
  actor: Actor;
  input: SendMessageInput;
  resolve(message: MessageDto): void;
  reject(err: unknown): void;
  /**
   * The community's verdict on this message, taken once: when a failed batch is retried message by message, the
   * retry reuses it instead of spending the sender's slow-mode turn a second time (and refusing its own message).
   */
  verdict?: Promise<ContributionVerdict>;
}

export interface SendBatcher {
  send(actor: Actor, input: SendMessageInput): Promise<MessageDto>;
  /** Flushes what is queued and stops taking new messages. */
  close(): Promise<void>;
}

/**
 * Stores chat messages in micro-batches: everything sent within `maxDelayMs` (or `maxBatch` messages) is stored
 * together — retries, access, reply parents and mentions read for all senders at once, the community's rules judged in
 * one query, and ONE statement that takes the seqs of every channel of the batch and writes the messages with their
 * channel events, mentions and thread counts — and every sender is acked only after that statement committed, once
 * its message has been announced. A message refused by policy or by its community's rules fails alone; if the write
 * fails as a whole (e.g. a concurrent retry on another node stored one of its clientIds first), nothing of it is
 * stored and each message is retried on its own, so one bad apple never loses the others.
 *
 * During an outage nothing waits to run later: the waits before the write (a connection from the pool; the sender's
 * budget, which falls back to this node's memory while Redis is away) are bounded by DEPENDENCY_TIMEOUT_MS, and the
 * write itself, once sent, is never abandoned on a timer — a sender hears the outcome PostgreSQL gave, or
 * `unavailable` when the connection could not be had or broke. A message answered `unavailable` was therefore never
 * written, or (the connection broke as it committed) was written before the answer; a resend with the same clientId
 * answers with the stored message in that case, so resending is always safe.
 */
export function createSendBatcher(deps: Deps, options: GroupOptions = {}): SendBatcher {
  // Like a group commit: while a batch is being stored, new messages gather into the next one instead of each taking
  // its own write, so batches grow with load and the write rate stays bounded.
  const group = createGroup<Pending>((batch) => storeBatch(deps, batch), options);
  let closed = false;
  return {
    send(actor, input) {
      if (closed) return Promise.reject(new AppError('unavailable', 'This server is shutting down; send again.'));
      return new Promise<MessageDto>((resolve, reject) => group.add({ actor, input, resolve, reject }));
    },
    async close() {
      closed = true;
      await group.drain();
    },
  };
}

async function storeBatch(deps: Deps, batch: Pending[]): Promise<void> {
  // The same (author, clientId) twice in one batch: the later ones wait for the first and get its answer.
  const firstByKey = new Map<string, Pending>();
  const followers: { item: Pending; leader: Pending }[] = [];
  for (const item of batch) {
    const key = `${item.actor.userId}:${item.input.clientId}`;
    const leader = firstByKey.get(key);
    if (leader) followers.push({ item, leader });
    else firstByKey.set(key, item);
  }
  const leaders = [...firstByKey.values()];
  const results = new Map<Pending, Promise<MessageDto>>();
  try {
    const stored = await storeLeaders(deps, leaders);
    for (const [item, outcome] of stored) results.set(item, outcome);
  } catch (err) {
    const dependency = dependencyFailure(err);
    if (dependency) {
      // PostgreSQL (or the connection to it) is away: one by one would only wait for it again, once per message.
      // Each sender is answered `unavailable` now, and nothing of this batch is left to run later (see the rule above).
      deps.logger.warn({ err: String(err), size: leaders.length, dependency }, 'chat batch refused: dependency unreachable');
      for (const item of leaders) results.set(item, refused(dependencyUnavailable(dependency)));
    } else {
      deps.logger.warn({ err: String(err), size: leaders.length }, 'chat batch failed; storing its messages one by one');
      for (const item of leaders) results.set(item, storeAlone(deps, item));
    }
  }
  for (const item of leaders) results.get(item)!.then(item.resolve, item.reject);
  for (const { item, leader } of followers) {
    results.get(leader)!.then(
      (message) => (message.channelId === item.input.channelId ? item.resolve(message) : item.reject(conflictingClientId())),
      item.reject,
    );
  }
}

/** An outcome awaited later; a refusal is marked handled now so it never counts as an unhandled rejection. */
function settledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** A refusal delivered later to its sender; marked handled now so it never counts as an unhandled rejection. */
function refused(err: unknown): Promise<never> {
  return settledLater(Promise.reject(err));
}

/**
 * One message as a batch of its own. If a concurrent retry of the same clientId (another node) committed first, the
 * second attempt's idempotency check finds that message and answers with it.
 */
async function storeAlone(deps: Deps, item: Pending): Promise<MessageDto> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await (await storeLeaders(deps, [item])).get(item)!;
    } catch (err) {
      if (attempt > 0 || !isUniqueViolation(err, 'messages_author_client_unique')) throw err;
    }
  }
}

const conflictingClientId = () => new AppError('conflict', 'This clientId was already used for a message in another channel.');

interface Planned {
  item: Pending;
  id: string;
  channelId: string;
  replyToId: string | null;
  mentioned: string[];
  /** Let through by the word filter in `flag` mode: reported for review after commit. */
  flaggedWords: string[];
  communityId: string | null;
  /** May notify someone (a mention, a thread reply, a direct message): its notifications are queued with it. */
  notable: boolean;
  /** In a DM or group DM: its other members hear `dm:activity` in their own rooms. */
  direct: boolean;
}

/**
 * Stores a batch in two round trips: what the batch must know, read at once (each read on its own connection:
 * retries already stored, every sender's access, the community's rules, reply parents, mentioned names), then ONE
 * statement that takes the seqs and writes everything (all or nothing, its own transaction). The reads need no
 * transaction with the write: each answers as of its moment, as it would at the start of one (read committed), and
 * the write's own locks order concurrent batches. Returns each message's outcome (stored message or its own refusal).
 */
async function storeLeaders(deps: Deps, items: Pending[]): Promise<Map<Pending, Promise<MessageDto>>> {
  const outcomes = new Map<Pending, Promise<MessageDto>>();
  const q = db(deps.orm.em.fork());

  const replyIds = [...new Set(items.map((i) => i.input.replyToId).filter((id): id is string => !!id))];
  const [existing, accessByPair, judgeAt, parents, mentions] = await Promise.all([
    storedAlready(q, items),
    loadChannelAccessMany(q, items.map((i) => ({ userId: i.actor.userId, channelId: i.input.channelId }))),
    // The community's rules, read now and applied below only to what the channel policy lets through.
    loadContributionRules(
      deps,
      q,
      items.map((i) => ({ actor: i.actor, contribution: { communityId: null, kind: 'message' as const, body: i.input.body, channelId: i.input.channelId } })),
    ),
    replyIds.length
      ? q
          .selectFrom('messages')
          .select(['id', 'channel_id', 'reply_to_id'])
          .where((eb) => eb('id', '=', eb.fn.any(uuids(replyIds))))
          .execute()
          .then((rows) => new Map(rows.map((p) => [p.id, p])))
      : new Map<string, { id: string; channel_id: string; reply_to_id: string | null }>(),
    // Names are resolved against who can read the channel, not against the sender: safe to look up before the
    // sender's own access is checked, and used only for messages that pass.
    Promise.allSettled(items.map((i) => resolveMentions(q, { channelId: i.input.channelId }, i.actor.userId, i.input.body))),
  ]);

  // Retries of messages already stored answer with the original.
  const fresh: { item: Pending; index: number; mentioned: PromiseSettledResult<string[]> }[] = [];
  const originals: { item: Pending; id: string }[] = [];
  items.forEach((item, i) => {
    const row = existing.get(`${item.actor.userId}:${item.input.clientId}`);
    if (!row) fresh.push({ item, index: i, mentioned: mentions[i]! });
    else if (row.channel_id !== item.input.channelId) outcomes.set(item, refused(conflictingClientId()));
    else originals.push({ item, id: row.id });
  });
  if (originals.length) {
    const loaded = await loadMessages(q, originals.map((o) => o.id));
    for (const o of originals) outcomes.set(o.item, Promise.resolve(loaded.get(o.id)!));
  }
  if (!fresh.length) return outcomes;

  const allowed: { item: Pending; access: ChannelAccess; replyToId: string | null; mentioned: PromiseSettledResult<string[]> }[] = [];
  for (const { item, index, mentioned } of fresh) {
    try {
      const access = checkChannelAccess(item.actor, accessByPair.get(accessKey(item.actor.userId, item.input.channelId)), 'post');
      let replyToId: string | null = null;
      if (item.input.replyToId) {
        const parent = parents.get(item.input.replyToId);
        if (!parent || parent.channel_id !== item.input.channelId) {
          throw new AppError('not_found', 'The message you reply to is not in this channel.');
        }
        replyToId = parent.reply_to_id ?? parent.id;
      }
      // The community's verdict, taken once (a retry message by message keeps it); DMs belong to no community.
      if (access.communityId && !item.verdict) item.verdict = settledLater(judgeAt(index));
      allowed.push({ item, access, replyToId, mentioned });
    } catch (err) {
      outcomes.set(item, refused(err));
    }
  }
  const planned: Planned[] = [];
  for (const { item, access, replyToId, mentioned } of allowed) {
    try {
      const flaggedWords = item.verdict ? (await item.verdict).flaggedWords : [];
      if (mentioned.status === 'rejected') throw mentioned.reason;
      planned.push({
        item,
        id: crypto.randomUUID(),
        channelId: item.input.channelId,
        replyToId,
        mentioned: mentioned.value,
        flaggedWords,
        communityId: access.communityId,
        notable: mentioned.value.length > 0 || replyToId !== null || access.kind === 'dm' || access.kind === 'group_dm',
        direct: access.kind === 'dm' || access.kind === 'group_dm',
      });
    } catch (err) {
      outcomes.set(item, refused(err));
    }
  }
  if (!planned.length) return outcomes;
  const stored = await writeMessages(
    q,
    planned.map((p) => ({ ...p, authorId: p.item.actor.userId, clientId: p.item.input.clientId, body: p.item.input.body })),
  );
  const committed: { p: Planned & { seq: number }; message: MessageDto; threadCounts: Map<string, number> }[] = [];
  for (const plan of planned) {
    const row = stored.get(plan.id);
    // Its channel was deleted after the access check: nothing was written for it.
    if (!row) {
      outcomes.set(plan.item, refused(new AppError('not_found', 'No such channel.')));
      continue;
    }
    const p = { ...plan, seq: row.seq };
    const threadCounts = new Map(p.replyToId && row.thread_count !== null ? [[p.replyToId, row.thread_count]] : []);
    const message = newMessageDto(p, authorRef(p.item.actor.userId, row.author_name, row.author_avatar), row.created_at.toISOString());
    committed.push({ p, message, threadCounts });
  }
  if (!committed.length) return outcomes;

  // After commit: announce in seq order, then ack (a flagged message once its case is open).
  const directMembers = await membersOfDirect(deps, committed.filter((c) => c.p.direct).map((c) => c.p.channelId));
  for (const { p, message, threadCounts } of committed.sort((a, b) => a.p.seq - b.p.seq)) {
    await deps.events.emit('message.created', {
      event: createdEvent(p.seq, message, threadCounts),
      communityId: p.communityId,
      mentioned: p.mentioned,
      directTo: (directMembers.get(p.channelId) ?? []).filter((userId) => userId !== p.item.actor.userId),
    });
    const reported =
      p.flaggedWords.length && p.communityId
        ? openAutomodCase(deps, { communityId: p.communityId, type: 'message', id: p.id, authorId: p.item.actor.userId }, p.flaggedWords)
        : undefined;
    outcomes.set(p.item, reported ? reported.then(() => message) : Promise.resolve(message));
  }
  // The messages that may notify someone were noted with them (writeMessages), so their notifications survive a crash
  // right after the commit; the notification module takes them from here, off the send path.
  const noticed = committed.filter((c) => c.p.notable).map((c) => c.p.id);
  if (noticed.length) await deps.events.emit('messages.noticed', { messageIds: noticed });
  return outcomes;
}

/** Messages already stored under the batch's (author, clientId) keys: retries answer with the original. */
async function storedAlready(q: Db, items: readonly Pending[]): Promise<Map<string, { id: string; channel_id: string }>> {
  const authorIds = uuids(items.map((i) => i.actor.userId));
  const clientIds = items.map((i) => i.input.clientId);
  const rows = await q
    .selectFrom('messages as m')
    .innerJoin(
      sql<{ author_id: string; client_id: string }>`unnest(${authorIds}, ${clientIds}::text[])`.as<'k'>(sql`k(author_id, client_id)`),
      (join) => join.onRef('k.author_id', '=', 'm.author_id').onRef('k.client_id', '=', 'm.client_id'),
    )
    .select(['m.id', 'm.channel_id', 'm.author_id', 'm.client_id'])
    .execute();
  return new Map(rows.map((row) => [`${row.author_id}:${row.client_id}`, row]));
}

/**
 * The members of the DMs a batch wrote to (one query, after commit, only when the batch holds DM messages), so each
 * hears of new DM messages in their own room without joining every DM's room (the unread count on "Messages").
 */
async function membersOfDirect(deps: Deps, channelIds: string[]): Promise<Map<string, string[]>> {
  const members = new Map<string, string[]>();
  if (channelIds.length === 0) return members;
  const rows = await db(deps.orm.em.fork())
    .selectFrom('channel_members')
    .select(['channel_id', 'user_id'])
    .where('channel_id', '=', sql<string>`any(${uuids([...new Set(channelIds)])})`)
    .execute();
  for (const row of rows) members.set(row.channel_id, [...(members.get(row.channel_id) ?? []), row.user_id]);
  return members;
}

function newMessageDto(p: Planned & { seq: number }, author: UserRef, createdAt: string): MessageDto {
  return {
    id: p.id,
    channelId: p.channelId,
    seq: p.seq,
    clientId: p.item.input.clientId,
    author,
    body: p.item.input.body,
    ...messageHtmlField(p.item.input.body),
    replyToId: p.replyToId,
    threadCount: 0,
    reactions: [],
    mentions: p.mentioned,
    pinned: false,
    createdAt,
    editedAt: null,
    deletedAt: null,
    hidden: false,
  };
}
