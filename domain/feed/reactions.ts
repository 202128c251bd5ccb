import type { ReactionDto } from '../../contracts/chat.ts';
import { checkContribution } from '../moderation/enforcement.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { loadCommentFor } from './comments.ts';
import { loadPostFor } from './postAccess.ts';
import { loadCommentReactions, loadPostReactions } from './presenters.ts';
import { recountReactions } from './visibility.ts';

/** As in chat: enough for any real conversation, too few to turn a post into a spam canvas. */
const MAX_DISTINCT_EMOJI = 20;

type Table = 'post_reactions' | 'comment_reactions';

/** Adds the caller's reaction, or takes it back when it is already there. */
async function toggle(sql: Sql, table: Table, targetId: string, userId: string, emoji: string, now: Date): Promise<void> {
  const key = table === 'post_reactions' ? 'post_id' : 'comment_id';
  const removed = await sql(`delete from ${table} where ${key} = ? and user_id = ? and emoji = ? returning 1`, [targetId, userId, emoji]);
  if (removed.length) return;
  const [{ n } = { n: 0 }] = await sql<{ n: number }>(`select count(distinct emoji)::int as n from ${table} where ${key} = ? and emoji <> ?`, [
    targetId,
    emoji,
  ]);
  if (n >= MAX_DISTINCT_EMOJI) throw new AppError('conflict', `At most ${MAX_DISTINCT_EMOJI} different reactions fit on one item.`);
  // The clock's time, not the database's: the home feed counts engagement as of a point on that clock.
  await sql(`insert into ${table} (${key}, user_id, emoji, created_at) values (?, ?, ?, ?) on conflict do nothing`, [targetId, userId, emoji, now]);
}

export interface ReactionsResult {
  reactions: ReactionDto[];
}

/** Toggles the caller's reaction on a post; answers the post's reactions. */
export async function togglePostReaction(deps: Deps, actor: Actor, postId: string, emoji: string): Promise<ReactionsResult> {
  const { reactions, communityId } = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const { post } = await loadPostFor(deps, sql, actor, postId, 'contribute', { lock: true });
    if (post.hidden) throw new AppError('conflict', 'This post is hidden.');
    await checkContribution(deps, sql, actor, { communityId: post.community_id, kind: 'reaction' });
    await toggle(sql, 'post_reactions', post.id, actor.userId, emoji, deps.clock.now());
    await recountReactions(sql, post.id);
    return { reactions: await loadPostReactions(sql, post.id), communityId: post.community_id };
  });
  await deps.events.emit('reactions.updated', { communityId, postId, commentId: null, reactions });
  return { reactions };
}

/** Toggles the caller's reaction on a comment; answers the comment's reactions. */
export async function toggleCommentReaction(deps: Deps, actor: Actor, commentId: string, emoji: string): Promise<ReactionsResult> {
  const result = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const { comment, ctx } = await loadCommentFor(deps, sql, actor, commentId, 'contribute', { lock: true });
    if (!comment.visible) throw new AppError('conflict', 'This comment is hidden.');
    await checkContribution(deps, sql, actor, { communityId: ctx.post.community_id, kind: 'reaction' });
    await toggle(sql, 'comment_reactions', comment.id, actor.userId, emoji, deps.clock.now());
    return { reactions: await loadCommentReactions(sql, comment.id), communityId: ctx.post.community_id, postId: comment.post_id };
  });
  await deps.events.emit('reactions.updated', { communityId: result.communityId, postId: result.postId, commentId, reactions: result.reactions });
  return { reactions: result.reactions };
}
