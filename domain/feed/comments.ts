import type { CommentDto } from '../../contracts/feed.ts';
import { recordAudit } from '../moderation/audit.ts';
import { checkContribution } from '../moderation/enforcement.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import type { FeedAction } from './access.ts';
import { flagForReview, loadPostFor, type PostContext } from './postAccess.ts';
import { loadComment, withoutCommunity } from './presenters.ts';
import { blockedBetween, recountComments, VISIBLE_COMMENT } from './visibility.ts';

export interface LockedComment {
  id: string;
  post_id: string;
  parent_id: string | null;
  author_id: string;
  body: string;
  hidden: boolean;
  /** Visible to members: neither it, its top-level parent nor its post is hidden or deleted. */
  visible: boolean;
}

/**
 * Loads a comment for `action` with its post (locked when `lock`: the post row first, as every comment change does,
 * so comment counts are recomputed one writer at a time). What the caller may not see answers `not_found`: deleted
 * comments or comments under a deleted parent, and — moderators excepted — hidden ones and those of people on the
 * other side of a block.
 */
export async function loadCommentFor(
  deps: Deps,
  sql: Sql,
  actor: Actor,
  commentId: string,
  action: FeedAction,
  options: { lock?: boolean } = {},
): Promise<{ comment: LockedComment; ctx: PostContext }> {
  const [ref] = await sql<{ post_id: string }>('select post_id from comments where id = ?', [commentId]);
  if (!ref) throw new AppError('not_found', 'No such comment.');
  const ctx = await loadPostFor(deps, sql, actor, ref.post_id, action, options).catch((err: unknown) => {
    throw err instanceof AppError && err.code === 'not_found' ? new AppError('not_found', 'No such comment.') : err;
  });
  const [comment] = await sql<LockedComment & { parent_deleted: boolean }>(
    `select c.id, c.post_id, c.parent_id, c.author_id, c.body, c.hidden_at is not null as hidden,
            ${VISIBLE_COMMENT('c')} and not ?::boolean as visible,
            coalesce((select pc.deleted_at is not null from comments pc where pc.id = c.parent_id), false) as parent_deleted
     from comments c where c.id = ? and c.deleted_at is null ${options.lock ? 'for update of c' : ''}`,
    [ctx.post.hidden, commentId],
  );
  if (!comment || comment.parent_deleted) throw new AppError('not_found', 'No such comment.');
  if (!ctx.moderates && (!comment.visible || (await blockedBetween(sql, actor.userId, comment.author_id)))) {
    throw new AppError('not_found', 'No such comment.');
  }
  return { comment, ctx };
}

/** Whether members can see the comment now (for deciding what to publish). */
async function visibleToMembers(sql: Sql, commentId: string): Promise<boolean> {
  const [row] = await sql<{ visible: boolean }>(
    `select ${VISIBLE_COMMENT('c')} and p.deleted_at is null and p.hidden_at is null as visible
     from comments c join posts p on p.id = c.post_id where c.id = ?`,
    [commentId],
  );
  return row?.visible ?? false;
}

/**
 * A member comments on a post, or replies to a comment. Replies are one level deep: a reply to a reply attaches to
 * that reply's top-level parent (the conversation continues under the same thread instead of being refused).
 */
export async function createComment(
  deps: Deps,
  actor: Actor,
  postId: string,
  input: { body: string; parentId?: string | undefined },
): Promise<CommentDto> {
  const { comment, visible, flaggedWords, communityId } = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const { post, moderates } = await loadPostFor(deps, sql, actor, postId, 'contribute', { lock: true });
    if (post.hidden) throw new AppError('conflict', 'This post is hidden; it cannot take comments.');
    let parentId: string | null = null;
    if (input.parentId) {
      const [parent] = await sql<{ id: string; post_id: string; parent_id: string | null; author_id: string; visible: boolean; deleted: boolean }>(
        `select c.id, c.post_id, c.parent_id, c.author_id, ${VISIBLE_COMMENT('c')} as visible,
                (c.deleted_at is not null or exists (select 1 from comments t where t.id = c.parent_id and t.deleted_at is not null)) as deleted
         from comments c where c.id = ?`,
        [input.parentId],
      );
      const hiddenFromActor = parent && !moderates && (!parent.visible || (await blockedBetween(sql, actor.userId, parent.author_id)));
      if (!parent || parent.post_id !== post.id || parent.deleted || hiddenFromActor) {
        throw new AppError('not_found', 'No such comment to reply to.', { details: { fields: { parentId: 'Not a comment on this post.' } } });
      }
      parentId = parent.parent_id ?? parent.id;
    }
    const { flaggedWords } = await checkContribution(deps, sql, actor, { communityId: post.community_id, kind: 'comment', body: input.body });
    const id = crypto.randomUUID();
    await sql('insert into comments (id, post_id, community_id, parent_id, author_id, body, created_at) values (?, ?, ?, ?, ?, ?, ?)', [
      id,
      post.id,
      post.community_id,
      parentId,
      actor.userId,
      input.body,
      deps.clock.now(),
    ]);
    await recountComments(sql, post.id);
    return { comment: (await loadComment(sql, id))!, visible: await visibleToMembers(sql, id), flaggedWords, communityId: post.community_id };
  });
  if (visible) await deps.events.emit('comment.created', { comment });
  await flagForReview(deps, flaggedWords, { communityId, type: 'comment', id: comment.id, authorId: actor.userId });
  return withoutCommunity(comment);
}

/** The author edits; the community's rules apply to the new text. */
export async function editComment(deps: Deps, actor: Actor, commentId: string, input: { body: string }): Promise<CommentDto> {
  const result = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const { comment, ctx } = await loadCommentFor(deps, sql, actor, commentId, 'contribute', { lock: true });
    if (comment.author_id !== actor.userId) throw new AppError('forbidden', 'You can only edit your own comments.');
    // Gone for its author too — even one who moderates and so could load it: an edit would announce it to members.
    if (!comment.visible) throw new AppError('not_found', 'No such comment.');
    let flaggedWords: string[] = [];
    const changed = comment.body !== input.body;
    if (changed) {
      ({ flaggedWords } = await checkContribution(deps, sql, actor, { communityId: ctx.post.community_id, kind: 'comment', body: input.body }));
      await sql('update comments set body = ?, edited_at = ? where id = ?', [input.body, deps.clock.now(), comment.id]);
    }
    return { dto: (await loadComment(sql, comment.id))!, changed, flaggedWords };
  });
  if (result.changed) await deps.events.emit('comment.updated', { comment: result.dto });
  await flagForReview(deps, result.flaggedWords, {
    communityId: result.dto.communityId,
    type: 'comment',
    id: result.dto.id,
    authorId: actor.userId,
  });
  return withoutCommunity(result.dto);
}

/**
 * The author or a community moderator deletes (soft). Replies under a deleted top-level comment go with it from
 * members' view. A moderator removing someone else's comment is audited.
 */
export async function deleteComment(deps: Deps, actor: Actor, commentId: string): Promise<void> {
  const gone = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const { comment, ctx } = await loadCommentFor(deps, sql, actor, commentId, 'read', { lock: true });
    const own = comment.author_id === actor.userId;
    if (!own && !ctx.moderates) throw new AppError('forbidden', 'Only the author or a moderator can delete this comment.');
    const now = deps.clock.now();
    await sql('update comments set deleted_at = ? where id = ?', [now, comment.id]);
    await recountComments(sql, comment.post_id);
    if (!own) {
      await recordAudit(
        sql,
        {
          communityId: ctx.post.community_id,
          actorId: actor.userId,
          action: 'delete',
          targetType: 'comment',
          targetId: comment.id,
          targetUserId: comment.author_id,
          before: { hidden: comment.hidden, deleted: false, body: comment.body },
          after: { hidden: comment.hidden, deleted: true },
        },
        now,
      );
    }
    return comment.visible ? { communityId: ctx.post.community_id, postId: comment.post_id } : null;
  });
  if (gone) await deps.events.emit('comment.deleted', { ...gone, commentId });
}
