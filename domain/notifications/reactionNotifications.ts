import { sql } from 'kysely';
import { db, type Db } from '../../orm/db.ts';
import { commentVisibleToMembers } from '../access/comment.ts';
import { FeedPolicy, loadFeedAccess } from '../access/feed.ts';
import { selectedFlag } from '../access/post.ts';
import '../chat/events.ts';
import '../feed/events.ts';
import type { Deps } from '../shared/deps.ts';
import type { EventBus } from '../shared/events.ts';
import type { JobHandler } from '../shared/jobs.ts';
import { postUrl } from './feedNotifications.ts';
import { messageUrl, readsChannel } from './messageNotifications.ts';
import { upsertNotification } from './notify.ts';

/*
 * Reactions to my chat message, post or comment make ONE notification per item, which grows: "Ana reacted to your
 * message", later "Ana and 19 others reacted to your message" — twenty reactions never make twenty notifications.
 *
 * Each toggle queues the item's job (keyed per item, `preserve_run_at`), due REACTION_DEBOUNCE_MS after the first
 * toggle of a burst, so a burst is counted once. The job counts the distinct people reacting now — not the author, not
 * people the author blocked — and rewrites the item's one notification: it names the latest of them, moves to the top
 * and is unread again when someone new reacted since it was last shown. Nobody left (all taken back before the job
 * ran, or only the author's own) notifies nothing, and neither does an item hidden or deleted meanwhile.
 *
 * The job is queued by an in-process listener of the toggle's event: a node dying between the commit and the queueing
 * loses one reaction's notice, which is harmless (the next reaction to the item counts it anyway).
 */

/** How long a burst of reactions gathers before its author is told. */
export const REACTION_DEBOUNCE_MS = 30_000;

export type ReactedItem = 'message' | 'post' | 'comment';

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    /** Someone reacted to an item: count its reactors and update its author's one notification (keyed per item). */
    'notifications.reactions': { on: ReactedItem; id: string };
  }
}

export const reactionsKey = (on: ReactedItem, id: string) => `reactions:${on}:${id}`;

/** Queues the item's count, unless one is already pending (then the burst joins it). */
export async function queueReactionCount(deps: Deps, on: ReactedItem, id: string): Promise<void> {
  const runAt = new Date(deps.clock.now().getTime() + REACTION_DEBOUNCE_MS);
  await sql`select graphile_worker.add_job(
      'notifications.reactions',
      ${JSON.stringify({ on, id })}::json,
      run_at => ${runAt}::timestamptz,
      job_key => ${reactionsKey(on, id)}::text,
      job_key_mode => 'preserve_run_at'
    )`.execute(deps.orm.em.fork().getKysely());
}

interface Reacted {
  authorId: string;
  communityId: string | null;
  noun: string;
  subjectType: 'message' | 'post';
  subjectId: string;
  body: string;
  url: string;
  /** Which reactions table, and the item's column in it. */
  reactions: { table: 'message_reactions'; column: 'message_id' } | { table: 'post_reactions'; column: 'post_id' } | { table: 'comment_reactions'; column: 'comment_id' };
}

/** Whether the author still reads the community's feed (a feed item's author who left a private community does not). */
async function readsFeed(deps: Deps, q: Db, userId: string, communityId: string): Promise<boolean> {
  const user = await q.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst();
  const access = user && (await loadFeedAccess(q, userId, communityId, deps.clock.now()));
  return !!access && FeedPolicy.read({ userId, sessionId: '', role: user.role }, access);
}

/** The item as its author's notification needs it; null when it is gone from members' view or from its author's. */
async function loadReacted(deps: Deps, q: Db, on: ReactedItem, id: string): Promise<Reacted | null> {
  if (on === 'message') {
    const m = await q
      .selectFrom('messages as m')
      .innerJoin('channels as c', 'c.id', 'm.channel_id')
      .select(['m.id', 'm.channel_id', 'm.author_id', 'm.body', 'm.hidden_at', 'm.deleted_at', 'c.kind', 'c.community_id'])
      .where('m.id', '=', id)
      .executeTakeFirst();
    if (!m || m.hidden_at || m.deleted_at) return null;
    if (!(await readsChannel(q, m.channel_id, m.author_id))) return null;
    return {
      authorId: m.author_id,
      communityId: m.community_id,
      noun: 'message',
      subjectType: 'message',
      subjectId: m.id,
      body: m.body,
      url: await messageUrl(q, m),
      reactions: { table: 'message_reactions', column: 'message_id' },
    };
  }
  if (on === 'post') {
    const p = await q
      .selectFrom('posts')
      .select(['id', 'author_id', 'community_id', 'body'])
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .where('hidden_at', 'is', null)
      .executeTakeFirst();
    if (!p || !(await readsFeed(deps, q, p.author_id, p.community_id))) return null;
    return {
      authorId: p.author_id,
      communityId: p.community_id,
      noun: 'post',
      subjectType: 'post',
      subjectId: p.id,
      body: p.body,
      url: postUrl(p.community_id, p.id),
      reactions: { table: 'post_reactions', column: 'post_id' },
    };
  }
  const c = await q
    .selectFrom('comments as c')
    .select(['c.id', 'c.post_id', 'c.author_id', 'c.community_id', 'c.body'])
    .select(selectedFlag(commentVisibleToMembers()).as('visible'))
    .where('c.id', '=', id)
    .executeTakeFirst();
  if (!c?.visible || !(await readsFeed(deps, q, c.author_id, c.community_id))) return null;
  return {
    authorId: c.author_id,
    communityId: c.community_id,
    noun: 'comment',
    subjectType: 'post',
    subjectId: c.post_id,
    body: c.body,
    url: postUrl(c.community_id, c.post_id),
    reactions: { table: 'comment_reactions', column: 'comment_id' },
  };
}

/** The people reacting to the item now (author and people the author blocked left out), the latest first. */
async function reactorsOf(q: Db, item: Reacted, id: string) {
  const { table, column } = item.reactions;
  const { rows } = await sql<{ user_id: string; display_name: string; first_at: Date; last_at: Date }>`
    select r.user_id, u.display_name, min(r.created_at) as first_at, max(r.created_at) as last_at
    from ${sql.table(table)} r
    join users u on u.id = r.user_id
    where r.${sql.ref(column)} = ${id}
      and r.user_id <> ${item.authorId}
      and not exists (select 1 from user_blocks b where b.blocker_id = ${item.authorId} and b.blocked_id = r.user_id)
    group by r.user_id, u.display_name
    order by last_at desc, r.user_id
  `.execute(q);
  return rows;
}

const others = (n: number) => (n === 1 ? '1 other' : `${n} others`);

/**
 * Counts the item's reactors and brings its author's one notification up to date; safe to run any number of times.
 * Returns how many people it names (0: none, nothing stored).
 */
export async function notifyAboutReactions(deps: Deps, on: ReactedItem, id: string): Promise<number> {
  const q = db(deps.orm.em.fork());
  const item = await loadReacted(deps, q, on, id);
  if (!item) return 0;
  const reactors = await reactorsOf(q, item, id);
  const latest = reactors[0];
  if (!latest) return 0;
  const sourceKey = reactionsKey(on, id);
  const stored = await q
    .selectFrom('notifications')
    .select('created_at')
    .where('user_id', '=', item.authorId)
    .where('kind', '=', 'reaction')
    .where('source_key', '=', sourceKey)
    .executeTakeFirst();
  // News: someone whose reaction came after the notification was last shown (or there is none yet).
  const renew = !stored || reactors.some((r) => r.first_at > stored.created_at);
  const who = reactors.length === 1 ? latest.display_name : `${latest.display_name} and ${others(reactors.length - 1)}`;
  await upsertNotification(
    deps,
    {
      userId: item.authorId,
      kind: 'reaction',
      sourceKey,
      actorId: latest.user_id,
      communityId: item.communityId,
      subjectType: item.subjectType,
      subjectId: item.subjectId,
      title: `${who} reacted to your ${item.noun}`,
      body: item.body,
      url: item.url,
    },
    { renew },
  );
  return reactors.length;
}

/** 'notifications.reactions': the debounced count of one item's reactions. */
export function reactionCountJob(deps: Deps): JobHandler<'notifications.reactions'> {
  return async ({ on, id }) => {
    await notifyAboutReactions(deps, on, id);
  };
}

/** In-process listeners that queue the item's count after each toggle (see above for why a lost one is harmless). */
export function registerReactionNotifications(bus: EventBus, deps: Deps): void {
  bus.on('reaction.updated', async ({ event }) => {
    if (event.reactions.length > 0) await queueReactionCount(deps, 'message', event.messageId);
  });
  bus.on('reactions.updated', async ({ postId, commentId, reactions }) => {
    if (reactions.length > 0) await queueReactionCount(deps, commentId ? 'comment' : 'post', commentId ?? postId);
  });
}
