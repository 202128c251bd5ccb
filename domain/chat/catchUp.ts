import { sql } from 'kysely';
import { JOIN_CATCH_UP_LIMIT, type ChannelEvent, type JoinResult } from '../../contracts/chat.ts';
import { db, uuids, type Db } from '../../orm/db.ts';
import { accessKey, ChannelPolicy, checkChannelAccess, loadChannelAccessMany, type ChannelAccess } from '../access/channel.ts';
import { AppError, dependencyFailure, dependencyUnavailable } from '../shared/errors.ts';
import { createGroup, type GroupOptions } from '../shared/groupCommit.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { concealHidden, loadMessages, loadThreadCounts, toEvent } from './presentMessages.ts';

/*
 * Catching up on join: the access check, then every channel event after the seq the client last applied, each carrying
 * its message as it is now (replaying them in order ends in exactly the current channel state, and deleted or hidden
 * content never reappears through an old event). `readCatchUps` serves many joins at once; `joinChannel` is a batch of
 * one, and the coalescer below gathers the joins of a moment into one batch, so a node taking over thousands of
 * reconnecting clients reads each busy channel once instead of once per socket.
 */

export interface CatchUpRequest {
  actor: Actor;
  channelId: string;
  /** The last seq the client applied; without it the join needs only the access check and the channel's last seq. */
  afterSeq?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A join that passed the read check and wants the events after `afterSeq`. */
interface Joiner {
  index: number;
  actor: Actor;
  access: ChannelAccess;
  afterSeq: number;
  /** Sees hidden messages with their content (ChannelPolicy.moderate); everyone else gets tombstones. */
  moderates: boolean;
}

type EventRow = Awaited<ReturnType<typeof readEventPages>>[number];

/**
 * The joins of many (user, channel, afterSeq) requests, each settled on its own: a channel that does not exist or that
 * the user may not read rejects that join alone (`not_found`, as authorizeChannel answers), and every joiner gets
 * exactly what a join of its own would: its events after its `afterSeq` (at most JOIN_CATCH_UP_LIMIT, `hasMore` when
 * there are more), its `lastSeq`, and hidden messages as its own role sees them. Costs, for any number of joins: one
 * statement for access, one for the events of every channel (another only when joiners of one channel are more than a
 * page apart), three for the messages and one for thread counts. Throws only when a statement fails.
 */
export async function readCatchUps(q: Db, requests: readonly CatchUpRequest[]): Promise<PromiseSettledResult<JoinResult>[]> {
  const outcomes: PromiseSettledResult<JoinResult>[] = new Array(requests.length);
  const refuse = (index: number, reason: unknown) => (outcomes[index] = { status: 'rejected', reason });

  // Checked here so that one malformed request cannot fail the statements of the whole batch.
  const valid = requests.flatMap((request, index) => {
    if (!UUID.test(request.channelId)) refuse(index, new AppError('not_found', 'No such channel.'));
    else if (request.afterSeq !== undefined && !Number.isSafeInteger(request.afterSeq)) {
      refuse(index, new AppError('invalid_input', 'afterSeq must be an integer.'));
    } else return [{ request, index }];
    return [];
  });
  const pairs = new Map(valid.map(({ request: r }) => [accessKey(r.actor.userId, r.channelId), { userId: r.actor.userId, channelId: r.channelId }]));
  const accessByPair = await loadChannelAccessMany(q, [...pairs.values()]);

  const joinersByChannel = new Map<string, Joiner[]>();
  for (const { request, index } of valid) {
    let access: ChannelAccess;
    try {
      access = checkChannelAccess(request.actor, accessByPair.get(accessKey(request.actor.userId, request.channelId)), 'read');
    } catch (err) {
      refuse(index, err);
      continue;
    }
    if (request.afterSeq === undefined) {
      outcomes[index] = { status: 'fulfilled', value: { channelId: request.channelId, lastSeq: access.lastSeq, events: [], hasMore: false } };
      continue;
    }
    const joiner = { index, actor: request.actor, access, afterSeq: request.afterSeq, moderates: ChannelPolicy.moderate(request.actor, access) };
    groupInto(joinersByChannel, request.channelId, joiner);
  }
  if (joinersByChannel.size === 0) return outcomes;

  const pages = await readPages(q, joinersByChannel);

  // The messages of every channel in one load: revealed only in the channels where some joiner moderates, and
  // concealed again below for each joiner who does not.
  const moderated = new Set([...joinersByChannel].filter(([, joiners]) => joiners.some((j) => j.moderates)).map(([channelId]) => channelId));
  const messageIds = [...pages.values()].flatMap((page) => page.rows.map((row) => row.message_id));
  const messages = await loadMessages(q, messageIds, moderated);
  const parents = await loadThreadCounts(q, [...messages.values()].flatMap((m) => (m.replyToId ? [m.replyToId] : [])));

  // An event is presented once per view, however many joiners' pages hold it.
  const presented = { moderator: new Map<EventRow, ChannelEvent>(), member: new Map<EventRow, ChannelEvent>() };
  const present = (row: EventRow, moderates: boolean) => {
    const cache = moderates ? presented.moderator : presented.member;
    let event = cache.get(row);
    if (!event) {
      const message = messages.get(row.message_id)!;
      event = toEvent(row.seq, row.type, moderates ? message : concealHidden(message), parents);
      cache.set(row, event);
    }
    return event;
  };
  for (const [channelId, joiners] of joinersByChannel) {
    for (const joiner of joiners) {
      const { rows, hasMore } = pages.get(joiner)!;
      const events = rows.map((row) => present(row, joiner.moderates));
      // lastSeq as of the events returned: the client applies live events above it.
      const lastSeq = hasMore ? events.at(-1)!.seq : Math.max(joiner.access.lastSeq, events.at(-1)?.seq ?? 0);
      outcomes[joiner.index] = { status: 'fulfilled', value: { channelId, lastSeq, events, hasMore } };
    }
  }
  return outcomes;
}

type Page = { rows: EventRow[]; hasMore: boolean };

/**
 * Each joiner's page: the first JOIN_CATCH_UP_LIMIT events after its `afterSeq`, and whether more follow. Per channel,
 * one read of a page (and one row more) after the smallest `afterSeq` of its joiners serves every joiner whose page
 * lies inside it. Joiners further on (it takes a joiner a whole page behind another) wait for the next round, which
 * continues the channel's window where the last read stopped (or starts a new one at the smallest waiting joiner when
 * that is past it), each round one statement for every channel still waiting, until every joiner has its page.
 */
async function readPages(q: Db, joinersByChannel: ReadonlyMap<string, Joiner[]>): Promise<Map<Joiner, Page>> {
  const pages = new Map<Joiner, Page>();
  // Per channel, every event after the smallest waiting `afterSeq` up to the last one read, in seq order.
  const windows = new Map<string, EventRow[]>();
  let waiting = new Map(joinersByChannel);
  while (waiting.size) {
    const reads = [...waiting].map(([channelId, joiners]) => {
      const lowest = Math.min(...joiners.map((j) => j.afterSeq));
      const window = windows.get(channelId) ?? [];
      const kept = window.slice(firstAfter(window, lowest));
      windows.set(channelId, kept);
      return { channelId, afterSeq: kept.at(-1)?.seq ?? lowest };
    });
    const readByChannel = new Map<string, EventRow[]>();
    for (const row of await readEventPages(q, reads, JOIN_CATCH_UP_LIMIT + 1)) groupInto(readByChannel, row.channel_id, row);
    const next = new Map<string, Joiner[]>();
    for (const [channelId, joiners] of waiting) {
      const read = (readByChannel.get(channelId) ?? []).sort((a, b) => a.seq - b.seq);
      const window = windows.get(channelId)!.concat(read);
      windows.set(channelId, window);
      // A read shorter than its limit reached the channel's end; after a full one, a joiner whose page is not complete
      // within the window waits for the next round.
      const reachedEnd = read.length <= JOIN_CATCH_UP_LIMIT;
      for (const joiner of joiners) {
        const after = window.slice(firstAfter(window, joiner.afterSeq));
        if (after.length > JOIN_CATCH_UP_LIMIT) pages.set(joiner, { rows: after.slice(0, JOIN_CATCH_UP_LIMIT), hasMore: true });
        else if (reachedEnd) pages.set(joiner, { rows: after, hasMore: false });
        else groupInto(next, channelId, joiner);
      }
    }
    waiting = next;
  }
  return pages;
}

/** The index of the first row above `seq` in rows sorted by seq. */
function firstAfter(rows: readonly { seq: number }[], seq: number): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (rows[mid]!.seq > seq) high = mid;
    else low = mid + 1;
  }
  return low;
}

function groupInto<K, V>(groups: Map<K, V[]>, key: K, value: V): void {
  const group = groups.get(key);
  if (group) group.push(value);
  else groups.set(key, [value]);
}

/** Up to `limit` events after `afterSeq` in each channel, in one statement for all of them. */
function readEventPages(q: Db, reads: readonly { channelId: string; afterSeq: number }[], limit: number) {
  return q
    .selectFrom(
      sql<{ channel_id: string; after_seq: number }>`unnest(${uuids(reads.map((r) => r.channelId))}, ${reads.map((r) => r.afterSeq)}::bigint[])`.as<'w'>(
        sql`w(channel_id, after_seq)`,
      ),
    )
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom('channel_events as e')
          .select(['e.seq', 'e.type', 'e.message_id'])
          .whereRef('e.channel_id', '=', 'w.channel_id')
          .whereRef('e.seq', '>', 'w.after_seq')
          .orderBy('e.seq')
          .limit(limit)
          .as('page'),
      (join) => join.onTrue(),
    )
    .select(['w.channel_id', 'page.seq', 'page.type', 'page.message_id'])
    .execute();
}

interface Pending {
  request: CatchUpRequest;
  resolve(result: JoinResult): void;
  reject(err: unknown): void;
}

export interface CatchUpCoalescer {
  /** The read check and the catch-up of one join, served with the other joins of the moment. */
  join(actor: Actor, input: { channelId: string; afterSeq?: number }): Promise<JoinResult>;
  /**
   * The read check alone (again, once the socket is in the room), batched like the joins; resolves with the channel's
   * last seq as that check read it. The check's statement runs after this call, never before: a request waits for the
   * next batch when one is already being read.
   */
  authorizeRead(actor: Actor, channelId: string): Promise<number>;
}

/**
 * Serves joins in batches, like a group commit (domain/shared/groupCommit.ts): what arrives in one turn of the event
 * loop, and whatever arrives while a batch is being read, goes out together through readCatchUps (one access statement
 * for every (user, channel) pair, one event read per channel, the messages of all channels in one load). One per
 * server, next to the send batcher.
 * If a batch's statements fail, each of its joins is rejected with `unavailable`, so none is left waiting.
 */
export function createCatchUpCoalescer(deps: Deps, options: GroupOptions = {}): CatchUpCoalescer {
  const group = createGroup<Pending>((batch) => serveBatch(deps, batch), { maxBatch: 500, ...options });
  const enqueue = (request: CatchUpRequest) => new Promise<JoinResult>((resolve, reject) => group.add({ request, resolve, reject }));
  return {
    join: (actor, input) => enqueue({ actor, channelId: input.channelId, afterSeq: input.afterSeq }),
    authorizeRead: async (actor, channelId) => (await enqueue({ actor, channelId })).lastSeq,
  };
}

async function serveBatch(deps: Deps, batch: readonly Pending[]): Promise<void> {
  let outcomes: PromiseSettledResult<JoinResult>[];
  try {
    outcomes = await readCatchUps(db(deps.orm.em.fork()), batch.map((p) => p.request));
  } catch (err) {
    deps.logger.warn({ err: String(err), size: batch.length }, 'channel catch-up batch failed');
    const dependency = dependencyFailure(err);
    const failure = dependency
      ? dependencyUnavailable(dependency)
      : new AppError('unavailable', 'The channel could not be loaded just now; join it again.');
    for (const p of batch) p.reject(failure);
    return;
  }
  batch.forEach((p, i) => {
    const outcome = outcomes[i];
    if (outcome?.status === 'fulfilled') p.resolve(outcome.value);
    else p.reject(outcome ? outcome.reason : new AppError('internal', 'The channel could not be loaded.'));
  });
}
