import { expressionBuilder, sql, type Expression, type ExpressionBuilder, type QueryCreator, type SqlBool } from 'kysely';
import type { DB } from '../../orm/db.ts';
import { authorListedTo, blockedBetween, mutedBy, PostPolicy, postVisibleToMembers, selectedFlag } from './post.ts';

/*
 * What a viewer gets of a comment. Comments are reached through their post, so PostPolicy.open for the post comes
 * first; these rules decide the rest, written twice side by side (`CommentPolicy` for one loaded comment, predicates
 * for the queries), and comment.test.ts proves they agree.
 *
 * Replies are one level deep: a reply's parent is a top-level comment of the same post. A thread never shows replies
 * under a comment that is gone, so:
 * - A deleted comment, or a reply under a deleted comment, is gone for everyone, moderators included.
 * - A hidden comment, or a reply under a hidden comment, is gone for members (its author included); moderators get
 *   it, marked hidden.
 * - In a post's comment list the viewer never sees comments by people they muted or are separated from by a block
 *   (either way), nor replies under such a comment; moderators neither. Opened directly (edit, delete, react, reply to
 *   it), a block either way answers `not_found` except to moderators; a mute does not.
 * - Members' view (live events): the comment is visible in its thread and its post is visible to members. A post's
 *   comment count counts the comments visible in their thread.
 */

/** What the comment rules need about one comment as one viewer sees it, loaded in one query (`selectCommentAccess`). */
export interface CommentAccess {
  hidden: boolean;
  deleted: boolean;
  /** Replies: their top-level comment is hidden / deleted. False for top-level comments. */
  parent_hidden: boolean;
  parent_deleted: boolean;
  post_hidden: boolean;
  post_deleted: boolean;
  /** The viewer muted the comment's author. */
  muted: boolean;
  /** The viewer blocked the comment's author, or the other way round. */
  blocked: boolean;
  /** Replies: the same about the top-level comment's author. False for top-level comments. */
  parent_muted: boolean;
  parent_blocked: boolean;
}

type ThreadState = Pick<CommentAccess, 'hidden' | 'deleted' | 'parent_hidden' | 'parent_deleted'>;

/** Pure rules over a loaded comment. `moderates`: FeedPolicy.moderate for the viewer and the comment's community. */
export const CommentPolicy = {
  /** Neither it nor (for a reply) its top-level comment is deleted or hidden: what a post's comment count counts. */
  visibleInThread(c: ThreadState): boolean {
    return !c.deleted && !c.hidden && !c.parent_deleted && !c.parent_hidden;
  },
  /** Members' view: visible in its thread, on a post members see. Live events announce only these. */
  visibleToMembers(c: ThreadState & Pick<CommentAccess, 'post_hidden' | 'post_deleted'>): boolean {
    return CommentPolicy.visibleInThread(c) && PostPolicy.visibleToMembers({ hidden: c.post_hidden, deleted: c.post_deleted });
  },
  /** Opened by id, on a post the viewer may open. */
  open(c: CommentAccess, moderates: boolean): boolean {
    if (c.post_deleted || c.deleted || c.parent_deleted) return false;
    return moderates || (CommentPolicy.visibleToMembers(c) && !c.blocked);
  },
  /** Listed with a post the viewer may open. */
  listed(c: CommentAccess, moderates: boolean): boolean {
    if (c.deleted || c.parent_deleted) return false;
    if (!moderates && !CommentPolicy.visibleInThread(c)) return false;
    return !c.muted && !c.blocked && !c.parent_muted && !c.parent_blocked;
  },
} as const;

/** A comment row aliased `c`, the scope the predicates below are written in. */
type CommentScope = DB & { c: DB['comments'] };

type ParentScope = DB & { tc: DB['comments'] };

/** A reply's top-level comment (aliased `tc`) meets every condition of `rule`; true for top-level comments. */
function parentMeets(rule: (tc: ExpressionBuilder<ParentScope, 'tc'>) => Expression<SqlBool>[]): Expression<SqlBool> {
  const eb = expressionBuilder<CommentScope, 'c'>();
  const tc = expressionBuilder<ParentScope, 'tc'>();
  return eb.or([
    eb('c.parent_id', 'is', null),
    eb.exists(
      eb
        .selectFrom('comments as tc')
        .select(sql.lit(1).as('one'))
        .whereRef('tc.id', '=', 'c.parent_id')
        .where(tc.and(rule(tc))),
    ),
  ]);
}

/** `CommentPolicy.visibleInThread` over the comment row `c`. */
export function commentVisibleInThread(): Expression<SqlBool> {
  const eb = expressionBuilder<CommentScope, 'c'>();
  return eb.and([
    eb('c.deleted_at', 'is', null),
    eb('c.hidden_at', 'is', null),
    parentMeets((tc) => [tc('tc.deleted_at', 'is', null), tc('tc.hidden_at', 'is', null)]),
  ]);
}

/** `CommentPolicy.visibleToMembers` over the comment row `c`. */
export function commentVisibleToMembers(): Expression<SqlBool> {
  const eb = expressionBuilder<CommentScope, 'c'>();
  return eb.and([
    commentVisibleInThread(),
    eb.exists(
      eb
        .selectFrom('posts as p')
        .select(sql.lit(1).as('one'))
        .whereRef('p.id', '=', 'c.post_id')
        .where(postVisibleToMembers()),
    ),
  ]);
}

/** `CommentPolicy.open` over the comment row `c`, for `viewerId`. */
export function commentOpenTo(viewerId: string, moderates: boolean): Expression<SqlBool> {
  const eb = expressionBuilder<CommentScope, 'c'>();
  if (!moderates) return eb.and([commentVisibleToMembers(), eb.not(blockedBetween(viewerId, eb.ref('c.author_id')))]);
  return eb.and([
    eb('c.deleted_at', 'is', null),
    parentMeets((tc) => [tc('tc.deleted_at', 'is', null)]),
    eb.exists(eb.selectFrom('posts as p').select(sql.lit(1).as('one')).whereRef('p.id', '=', 'c.post_id').where('p.deleted_at', 'is', null)),
  ]);
}

/** `CommentPolicy.listed` over the comment row `c`, for `viewerId`: the filter of a post's comment list. */
export function commentListedTo(viewerId: string, moderates: boolean): Expression<SqlBool> {
  const eb = expressionBuilder<CommentScope, 'c'>();
  return eb.and([
    eb('c.deleted_at', 'is', null),
    ...(moderates ? [] : [eb('c.hidden_at', 'is', null)]),
    authorListedTo(viewerId, eb.ref('c.author_id')),
    parentMeets((tc) => [
      tc('tc.deleted_at', 'is', null),
      ...(moderates ? [] : [tc('tc.hidden_at', 'is', null)]),
      authorListedTo(viewerId, tc.ref('tc.author_id')),
    ]),
  ]);
}

/**
 * Comments (`c`, with their post `cp` and, for replies, their top-level comment `tc`) with what `CommentPolicy`
 * reads about them; `viewerId` null leaves out the viewer's mutes and blocks (all false), for the members' view. For
 * callers to narrow, extend with the columns they need and lock (`forUpdate('c')`). The rows are `CommentAccess`.
 */
export function selectCommentAccess(q: QueryCreator<DB>, viewerId: string | null) {
  const relation = (author: Expression<string>, to: (viewer: string, author: Expression<string>) => Expression<SqlBool>) =>
    viewerId === null ? sql<boolean>`false` : selectedFlag(to(viewerId, author));
  return q
    .selectFrom('comments as c')
    .innerJoin('posts as cp', 'cp.id', 'c.post_id')
    .leftJoin('comments as tc', 'tc.id', 'c.parent_id')
    .select((eb) => [
      'c.id',
      'c.post_id',
      'c.community_id',
      'c.parent_id',
      'c.author_id',
      selectedFlag(eb('c.hidden_at', 'is not', null)).as('hidden'),
      selectedFlag(eb('c.deleted_at', 'is not', null)).as('deleted'),
      // No parent: the left join gives nulls, and `null is not null` is false.
      selectedFlag(eb('tc.hidden_at', 'is not', null)).as('parent_hidden'),
      selectedFlag(eb('tc.deleted_at', 'is not', null)).as('parent_deleted'),
      selectedFlag(eb('cp.hidden_at', 'is not', null)).as('post_hidden'),
      selectedFlag(eb('cp.deleted_at', 'is not', null)).as('post_deleted'),
      relation(eb.ref('c.author_id'), mutedBy).as('muted'),
      relation(eb.ref('c.author_id'), blockedBetween).as('blocked'),
      relation(eb.ref('tc.author_id').$castTo<string>(), mutedBy).as('parent_muted'),
      relation(eb.ref('tc.author_id').$castTo<string>(), blockedBetween).as('parent_blocked'),
    ]);
}
