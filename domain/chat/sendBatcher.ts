import type { ChannelEvent, MessageDto, SendMessageInput } from '../../contracts/chat.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { checkContributions, type ContributionVerdict } from '../moderation/enforcement.ts';
import { openAutomodCase } from '../moderation/cases.ts';
import { isUniqueViolation, sqlOf, type Sql } from '../shared/sql.ts';
import { accessKey, checkChannelAccess, loadChannelAccessMany, type ChannelAccess } from './access.ts';
import { resolveMentions } from './mentions.ts';
import { announceCreated } from './messages.ts';
import { loadMessages, toEvent } from './presentMessages.ts';

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
 * Stores chat messages in micro-batches: everything sent within `maxDelayMs` (or `maxBatch` messages) goes into ONE
 * transaction — access checked for all senders in one query, seqs allocated per channel with one row lock, rows
 * inserted with set-based statements, the community's rules judged in one query — and every sender is acked only
 * after that commit. A message refused by policy or by its community's rules fails alone; if the batch as a whole
 * fails (e.g. a concurrent retry on another node), each message is retried on its own, so one bad apple never loses
 * the others.
 */
export function createSendBatcher(
  deps: Deps,
  options: { maxDelayMs?: number; maxBatch?: number; maxInFlight?: number } = {},
): SendBatcher {
  const maxDelayMs = options.maxDelayMs ?? 2;
  const maxBatch = options.maxBatch ?? 200;
  // Like a group commit: while a batch is being stored, new messages gather into the next one instead of each taking
  // its own transaction, so batches grow with load and the commit rate stays bounded.
  const maxInFlight = options.maxInFlight ?? 1;
  const queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const inFlight = new Set<Promise<void>>();

  const flushNow = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!queue.length || inFlight.size >= maxInFlight) return;
    const batch = queue.splice(0, maxBatch);
    const run = storeBatch(deps, batch).finally(() => {
      inFlight.delete(run);
      // What arrived meanwhile goes out now, as one batch.
      if (queue.length) flushNow();
    });
    inFlight.add(run);
  };

  return {
    send(actor, input) {
      if (closed) return Promise.reject(new AppError('unavailable', 'This server is shutting down; send again.'));
      return new Promise<MessageDto>((resolve, reject) => {
        queue.push({ actor, input, resolve, reject });
        if (queue.length >= maxBatch) flushNow();
        else timer ??= setTimeout(flushNow, maxDelayMs);
      });
    },
    async close() {
      closed = true;
      flushNow();
      while (inFlight.size) await Promise.all(inFlight);
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
    deps.logger.warn({ err: String(err), size: leaders.length }, 'chat batch failed; storing its messages one by one');
    for (const item of leaders) results.set(item, storeAlone(deps, item));
  }
  for (const item of leaders) results.get(item)!.then(item.resolve, item.reject);
  for (const { item, leader } of followers) {
    results.get(leader)!.then(
      (message) => (message.channelId === item.input.channelId ? item.resolve(message) : item.reject(conflictingClientId())),
      item.reject,
    );
  }
}

/** A refusal delivered later to its sender; marked handled now so it never counts as an unhandled rejection. */
function refused(err: unknown): Promise<never> {
  const promise = Promise.reject(err);
  promise.catch(() => {});
  return promise;
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
  seq?: number;
}

/** One transaction for the whole batch; returns each message's outcome (stored message or its own refusal). */
async function storeLeaders(deps: Deps, items: Pending[]): Promise<Map<Pending, Promise<MessageDto>>> {
  const outcomes = new Map<Pending, Promise<MessageDto>>();
  const em = deps.orm.em.fork();
  const sql = sqlOf(em);

  // Retries of messages already stored answer with the original, outside the transaction.
  const existing = await sql<{ id: string; channel_id: string; author_id: string; client_id: string }>(
    `select m.id, m.channel_id, m.author_id, m.client_id from messages m
     join unnest(?::uuid[], ?::text[]) as k(author_id, client_id) on k.author_id = m.author_id and k.client_id = m.client_id`,
    [items.map((i) => i.actor.userId), items.map((i) => i.input.clientId)],
  );
  const existingByKey = new Map(existing.map((row) => [`${row.author_id}:${row.client_id}`, row]));
  const fresh: Pending[] = [];
  const originals: { item: Pending; id: string }[] = [];
  for (const item of items) {
    const row = existingByKey.get(`${item.actor.userId}:${item.input.clientId}`);
    if (!row) fresh.push(item);
    else if (row.channel_id !== item.input.channelId) outcomes.set(item, refused(conflictingClientId()));
    else originals.push({ item, id: row.id });
  }
  if (originals.length) {
    const loaded = await loadMessages(sql, originals.map((o) => o.id));
    for (const o of originals) outcomes.set(o.item, Promise.resolve(loaded.get(o.id)!));
  }
  if (!fresh.length) return outcomes;

  const committed = await em.transactional(async (tx) => {
    const q = sqlOf(tx);
    const accessByPair = await loadChannelAccessMany(tx, fresh.map((i) => ({ userId: i.actor.userId, channelId: i.input.channelId })));
    const replyIds = [...new Set(fresh.map((i) => i.input.replyToId).filter((id): id is string => !!id))];
    const parents = new Map(
      (replyIds.length
        ? await q<{ id: string; channel_id: string; reply_to_id: string | null }>(
            'select id, channel_id, reply_to_id from messages where id = any(?::uuid[])',
            [replyIds],
          )
        : []
      ).map((p) => [p.id, p]),
    );
    const allowed: { item: Pending; access: ChannelAccess; replyToId: string | null }[] = [];
    for (const item of fresh) {
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
        allowed.push({ item, access, replyToId });
      } catch (err) {
        outcomes.set(item, refused(err));
      }
    }
    await judgeMessages(deps, q, allowed);
    const planned: Planned[] = [];
    for (const { item, access, replyToId } of allowed) {
      try {
        const flaggedWords = item.verdict ? (await item.verdict).flaggedWords : [];
        const mentioned = await resolveMentions(q, access, item.actor.userId, item.input.body);
        planned.push({ item, id: crypto.randomUUID(), channelId: item.input.channelId, replyToId, mentioned, flaggedWords, communityId: access.communityId });
      } catch (err) {
        outcomes.set(item, refused(err));
      }
    }
    if (!planned.length) return [];

    // Seqs: lock the channels in a fixed order (no deadlock between batches on different nodes), then take a
    // contiguous block per channel, assigned in arrival order.
    const counts = new Map<string, number>();
    for (const p of planned) counts.set(p.channelId, (counts.get(p.channelId) ?? 0) + 1);
    const channelIds = [...counts.keys()].sort();
    await q('select id from channels where id = any(?::uuid[]) order by id for update', [channelIds]);
    const blocks = await q<{ id: string; last_seq: string }>(
      `update channels c set last_seq = c.last_seq + v.n from unnest(?::uuid[], ?::int[]) as v(id, n)
       where c.id = v.id returning c.id, c.last_seq`,
      [channelIds, channelIds.map((id) => counts.get(id)!)],
    );
    const nextSeq = new Map(blocks.map((b) => [b.id, Number(b.last_seq) - counts.get(b.id)! + 1]));
    for (const p of planned) {
      p.seq = nextSeq.get(p.channelId)!;
      nextSeq.set(p.channelId, p.seq + 1);
    }

    const inserted = await q<{ id: string; created_at: Date | string }>(
      `insert into messages (id, channel_id, seq, author_id, client_id, body, reply_to_id)
       select * from unnest(?::uuid[], ?::uuid[], ?::bigint[], ?::uuid[], ?::text[], ?::text[], ?::uuid[])
       returning id, created_at`,
      [
        planned.map((p) => p.id),
        planned.map((p) => p.channelId),
        planned.map((p) => p.seq),
        planned.map((p) => p.item.actor.userId),
        planned.map((p) => p.item.input.clientId),
        planned.map((p) => p.item.input.body),
        planned.map((p) => p.replyToId),
      ],
    );
    await q(
      `insert into channel_events (channel_id, seq, type, message_id)
       select c, s, 'message:created', m from unnest(?::uuid[], ?::bigint[], ?::uuid[]) as v(c, s, m)`,
      [planned.map((p) => p.channelId), planned.map((p) => p.seq), planned.map((p) => p.id)],
    );
    const mentionRows = planned.flatMap((p) => p.mentioned.map((userId) => ({ p, userId })));
    if (mentionRows.length) {
      await q(
        `insert into message_mentions (message_id, user_id, channel_id, seq)
         select * from unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::bigint[])`,
        [mentionRows.map((r) => r.p.id), mentionRows.map((r) => r.userId), mentionRows.map((r) => r.p.channelId), mentionRows.map((r) => r.p.seq)],
      );
    }
    const replyCounts = new Map<string, number>();
    for (const p of planned) if (p.replyToId) replyCounts.set(p.replyToId, (replyCounts.get(p.replyToId) ?? 0) + 1);
    const threadCounts = new Map<string, number>();
    if (replyCounts.size) {
      const updated = await q<{ id: string; thread_count: number }>(
        `update messages m set thread_count = m.thread_count + v.n from unnest(?::uuid[], ?::int[]) as v(id, n)
         where m.id = v.id returning m.id, m.thread_count`,
        [[...replyCounts.keys()], [...replyCounts.values()]],
      );
      for (const row of updated) threadCounts.set(row.id, row.thread_count);
    }
    // Everything a new message shows is known here: no read-back after commit.
    const authors = new Map(
      (await q<{ id: string; display_name: string }>('select id, display_name from users where id = any(?::uuid[])', [
        [...new Set(planned.map((p) => p.item.actor.userId))],
      ])).map((u) => [u.id, u.display_name]),
    );
    const createdAt = new Map(inserted.map((row) => [row.id, new Date(row.created_at).toISOString()]));
    return planned.map((p) => ({ p, message: newMessageDto(p, authors.get(p.item.actor.userId)!, createdAt.get(p.id)!), threadCounts }));
  });
  if (!committed.length) return outcomes;

  // After commit: publish in seq order, then ack (a flagged message once its case is open).
  for (const { p, message, threadCounts } of [...committed].sort((a, b) => a.p.seq! - b.p.seq!)) {
    const event: ChannelEvent = toEvent(p.channelId, p.seq!, 'message:created', message, threadCounts);
    announceCreated(deps, event, p.mentioned);
    const reported =
      p.flaggedWords.length && p.communityId
        ? openAutomodCase(deps, { communityId: p.communityId, type: 'message', id: p.id, authorId: p.item.actor.userId }, p.flaggedWords)
        : undefined;
    outcomes.set(p.item, reported ? reported.then(() => message) : Promise.resolve(message));
  }
  return outcomes;
}

/**
 * The community's rules (timeouts, word filter, link limit, slow mode) for every message the channel policy let
 * through, in one query for the batch; DMs belong to no community. A refusal rejects that message alone (in the
 * planning loop). Each verdict is kept on its message, so a batch retried message by message does not judge again.
 */
async function judgeMessages(deps: Deps, sql: Sql, allowed: readonly { item: Pending; access: ChannelAccess }[]): Promise<void> {
  const toJudge = allowed.filter(({ item, access }) => access.communityId && !item.verdict);
  const outcomes = await checkContributions(
    deps,
    sql,
    toJudge.map(({ item, access }) => ({
      actor: item.actor,
      contribution: { communityId: access.communityId!, kind: 'message' as const, body: item.input.body, channelId: item.input.channelId },
    })),
  );
  toJudge.forEach(({ item }, i) => {
    const outcome = outcomes[i]!;
    item.verdict = outcome.status === 'fulfilled' ? Promise.resolve(outcome.value) : refused(outcome.reason);
  });
}

function newMessageDto(p: Planned, displayName: string, createdAt: string): MessageDto {
  return {
    id: p.id,
    channelId: p.channelId,
    seq: p.seq!,
    clientId: p.item.input.clientId,
    author: { id: p.item.actor.userId, displayName },
    body: p.item.input.body,
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
