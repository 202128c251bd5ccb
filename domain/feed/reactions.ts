import { sql } from 'kysely';
import type { ReactionDto } from '../../contracts/chat.ts';
import { db, type Db } from '../../orm/db.ts';
import { CommentPolicy } from '../access/comment.ts';
import { checkContribution } from '../moderation/enforcement.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { loadCommentFor } from './comments.ts';
import { recountReactions } from './counts.ts';
import { loadPostFor } from './postAccess.ts';
import { loadCommentReactions, loadPostReactions, reactionRows } from './presenters.ts';
import { bumpVersion } from './versions.ts';

/** As in chat: enough for any real conversation, too few to turn a post into a spam canvas. */
const MAX_DISTINCT_EMOJI = 20;

type Target = 'post' | 'comment';

/** Takes back the caller's reaction; true when there was one. */
async function withdraw(q: Db, on: Target, targetId: string, userId: string, emoji: string): Promise<boolean> {
  const removed =
    on === 'post'
      ? await q
          .deleteFrom('post_reactions')
          .where('post_id', '=', targetId)
          .where('user_id', '=', userId)
          .where('emoji', '=', emoji)
          .returning('emoji')
          .execute()
      : await q
          .deleteFrom('comment_reactions')
          .where('comment_id', '=', targetId)
          .where('user_id', '=', userId)
          .where('emoji', '=', emoji)
          .returning('emoji')
          .execute();
  return removed.length > 0;
}

async function give(q: Db, on: Target, targetId: string, userId: string, emoji: string, now: Date): Promise<void> {
  const reaction = { user_id: userId, emoji, created_at: now };
  if (on === 'post') await q.insertInto('post_reactions').values({ post_id: targetId, ...reaction }).onConflict((oc) => oc.doNothing()).execute();
  else await q.insertInto('comment_reactions').values({ comment_id: targetId, ...reaction }).onConflict((oc) => oc.doNothing()).execute();
}

/** Adds the caller's reaction, or takes it back when it is already there. */
async function toggle(q: Db, on: Target, targetId: string, userId: string, emoji: string, now: Date): Promise<void> {
  if (await withdraw(q, on, targetId, userId, emoji)) return;
  const { n } = await q
    .selectFrom(reactionRows(q, on, [targetId]))
    .select(sql<number>`count(distinct r.emoji)::int`.as('n'))
    .where('r.emoji', '<>', emoji)
    .executeTakeFirstOrThrow();
  if (n >= MAX_DISTINCT_EMOJI) throw new AppError('conflict', `At most ${MAX_DISTINCT_EMOJI} different reactions fit on one item.`);
  // The clock's time, not the database's: the home feed counts engagement as of a point on that clock.
  await give(q, on, targetId, userId, emoji, now);
}

export interface ReactionsResult {
  reactions: ReactionDto[];
  /** The post's or comment's version after the toggle. */
  version: number;
}

/** Toggles the caller's reaction on a post; answers the post's reactions. */
export async function togglePostReaction(deps: Deps, actor: Actor, postId: string, emoji: string): Promise<ReactionsResult> {
  const { reactions, communityId, version } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { post } = await loadPostFor(deps, q, actor, postId, 'contribute', { lock: true });
    if (post.hidden) throw new AppError('conflict', 'This post is hidden.');
    await checkContribution(deps, q, actor, { communityId: post.community_id, kind: 'reaction' });
    await toggle(q, 'post', post.id, actor.userId, emoji, deps.clock.now());
    await recountReactions(q, post.id);
    const version = await bumpVersion(q, 'posts', post.id);
    return { reactions: await loadPostReactions(q, post.id), communityId: post.community_id, version };
  });
  await deps.events.emit('reactions.updated', { communityId, postId, commentId: null, reactions, version });
  return { reactions, version };
}

/** Toggles the caller's reaction on a comment; answers the comment's reactions. */
export async function toggleCommentReaction(deps: Deps, actor: Actor, commentId: string, emoji: string): Promise<ReactionsResult> {
  const result = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { comment, ctx } = await loadCommentFor(deps, q, actor, commentId, 'contribute', { lock: true });
    if (!CommentPolicy.visibleToMembers(comment)) throw new AppError('conflict', 'This comment is hidden.');
    await checkContribution(deps, q, actor, { communityId: ctx.post.community_id, kind: 'reaction' });
    await toggle(q, 'comment', comment.id, actor.userId, emoji, deps.clock.now());
    const version = await bumpVersion(q, 'comments', comment.id);
    return { reactions: await loadCommentReactions(q, comment.id), communityId: ctx.post.community_id, postId: comment.post_id, version };
  });
  const { communityId, postId, reactions, version } = result;
  await deps.events.emit('reactions.updated', { communityId, postId, commentId, reactions, version });
  return { reactions, version };
}
