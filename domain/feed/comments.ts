import type { CommentDto } from '../../contracts/feed.ts';
import { db, type Db } from '../../orm/db.ts';
import { CommentPolicy, commentVisibleToMembers, selectCommentAccess } from '../access/comment.ts';
import { selectedFlag } from '../access/post.ts';
import { recordAudit } from '../moderation/audit.ts';
import { checkContribution } from '../moderation/enforcement.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { FeedAction } from '../access/feed.ts';
import { recountComments } from './counts.ts';
import { flagForReview, loadPostFor, type PostContext } from './postAccess.ts';
import { loadComment, withoutCommunity } from './presenters.ts';
import { nextVersion } from './versions.ts';

/** A comment with what CommentPolicy reads for the caller, and its body; its row locked when `lock`. */
function loadCommentRow(q: Db, viewerId: string, commentId: string, lock: boolean) {
  return selectCommentAccess(q, viewerId)
    .select('c.body')
    .where('c.id', '=', commentId)
    .$if(lock, (qb) => qb.forUpdate('c'))
    .executeTakeFirst();
}

export type LoadedComment = NonNullable<Awaited<ReturnType<typeof loadCommentRow>>>;

/**
 * Loads a comment for `action` with its post (locked when `lock`: the post row first, as every comment change does,
 * so comment counts are recomputed one writer at a time). What CommentPolicy.open refuses the caller answers
 * `not_found`: deleted comments or comments under a deleted parent, and — moderators excepted — hidden ones and those
 * of people on the other side of a block.
 */
export async function loadCommentFor(
  deps: Deps,
  q: Db,
  actor: Actor,
  commentId: string,
  action: FeedAction,
  options: { lock?: boolean } = {},
): Promise<{ comment: LoadedComment; ctx: PostContext }> {
  const ref = await q.selectFrom('comments').select('post_id').where('id', '=', commentId).executeTakeFirst();
  if (!ref) throw new AppError('not_found', 'No such comment.');
  const ctx = await loadPostFor(deps, q, actor, ref.post_id, action, options).catch((err: unknown) => {
    throw err instanceof AppError && err.code === 'not_found' ? new AppError('not_found', 'No such comment.') : err;
  });
  const comment = await loadCommentRow(q, actor.userId, commentId, options.lock ?? false);
  if (!comment || !CommentPolicy.open(comment, ctx.moderates)) throw new AppError('not_found', 'No such comment.');
  return { comment, ctx };
}

/** Whether members can see the comment now (for deciding what to publish). */
async function visibleToMembers(q: Db, commentId: string): Promise<boolean> {
  const row = await q
    .selectFrom('comments as c')
    .select(selectedFlag(commentVisibleToMembers()).as('visible'))
    .where('c.id', '=', commentId)
    .executeTakeFirst();
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
    const q = db(tx);
    const { post, moderates } = await loadPostFor(deps, q, actor, postId, 'contribute', { lock: true });
    if (post.hidden) throw new AppError('conflict', 'This post is hidden; it cannot take comments.');
    let parentId: string | null = null;
    if (input.parentId) {
      const parent = await loadCommentRow(q, actor.userId, input.parentId, false);
      if (!parent || parent.post_id !== post.id || !CommentPolicy.open(parent, moderates)) {
        throw new AppError('not_found', 'No such comment to reply to.', { details: { fields: { parentId: 'Not a comment on this post.' } } });
      }
      parentId = parent.parent_id ?? parent.id;
    }
    const { flaggedWords } = await checkContribution(deps, q, actor, { communityId: post.community_id, kind: 'comment', body: input.body });
    const id = crypto.randomUUID();
    await q
      .insertInto('comments')
      .values({
        id,
        post_id: post.id,
        community_id: post.community_id,
        parent_id: parentId,
        author_id: actor.userId,
        body: input.body,
        created_at: deps.clock.now(),
      })
      .execute();
    await recountComments(q, post.id);
    await deps.events.record(tx, 'comment.written', { commentId: id, repliedToId: input.parentId ?? null });
    return { comment: (await loadComment(q, id))!, visible: await visibleToMembers(q, id), flaggedWords, communityId: post.community_id };
  });
  if (visible) await deps.events.emit('comment.created', { comment });
  await flagForReview(deps, flaggedWords, { communityId, type: 'comment', id: comment.id, authorId: actor.userId });
  return withoutCommunity(comment);
}

/** The author edits; the community's rules apply to the new text. */
export async function editComment(deps: Deps, actor: Actor, commentId: string, input: { body: string }): Promise<CommentDto> {
  const result = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { comment, ctx } = await loadCommentFor(deps, q, actor, commentId, 'contribute', { lock: true });
    if (comment.author_id !== actor.userId) throw new AppError('forbidden', 'You can only edit your own comments.');
    // Gone for its author too — even one who moderates and so could load it: an edit would announce it to members.
    if (!CommentPolicy.visibleToMembers(comment)) throw new AppError('not_found', 'No such comment.');
    let flaggedWords: string[] = [];
    const changed = comment.body !== input.body;
    if (changed) {
      ({ flaggedWords } = await checkContribution(deps, q, actor, { communityId: ctx.post.community_id, kind: 'comment', body: input.body }));
      await q
        .updateTable('comments')
        .set({ body: input.body, edited_at: deps.clock.now(), version: nextVersion })
        .where('id', '=', comment.id)
        .execute();
    }
    return { dto: (await loadComment(q, comment.id))!, changed, flaggedWords };
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
    const q = db(tx);
    const { comment, ctx } = await loadCommentFor(deps, q, actor, commentId, 'read', { lock: true });
    const own = comment.author_id === actor.userId;
    if (!own && !ctx.moderates) throw new AppError('forbidden', 'Only the author or a moderator can delete this comment.');
    const now = deps.clock.now();
    const { version } = await q
      .updateTable('comments')
      .set({ deleted_at: now, version: nextVersion })
      .where('id', '=', comment.id)
      .returning('version')
      .executeTakeFirstOrThrow();
    await recountComments(q, comment.post_id);
    if (!own) {
      await recordAudit(
        q,
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
    return CommentPolicy.visibleToMembers(comment) ? { communityId: ctx.post.community_id, postId: comment.post_id, version } : null;
  });
  if (gone) await deps.events.emit('comment.deleted', { ...gone, commentId });
}
