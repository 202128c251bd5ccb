import { expressionBuilder, sql, type Expression, type QueryCreator, type SqlBool } from 'kysely';
import type { DB } from '../../orm/db.ts';

/*
 * What a viewer gets of a post, once they may read its community's feed (FeedPolicy.read). Written twice side by side:
 * `PostPolicy` decides for one loaded post, and the predicates below are the same rules for the queries that list and
 * count posts; post.test.ts builds every case in a real database and proves the two agree.
 *
 * - A deleted post is gone for everyone, its author and moderators included.
 * - A hidden post is gone for members, its author included; whoever moderates the community (FeedPolicy.moderate:
 *   its moderators, admins and owners, and platform moderators and admins) still gets it, marked hidden.
 * - Mutes and blocks are about authors. In lists (a community's feed, the home feed, a post's comments) the viewer
 *   never sees people they muted, people they blocked, or people who blocked them — moderators neither: these are
 *   their own choices. Opened directly, a muted author's post still opens (muting quiets feeds, it does not break
 *   links), and a block either way answers `not_found`, except to moderators, who must be able to act on it.
 * - Members' view (what live events announce, what counts count): neither deleted nor hidden.
 */

/** What the post rules need about one post as one viewer sees it, loaded in one query (`selectPostAccess`). */
export interface PostAccess {
  hidden: boolean;
  deleted: boolean;
  /** The viewer muted the post's author. */
  muted: boolean;
  /** The viewer blocked the author, or the author blocked the viewer. */
  blocked: boolean;
}

/** Pure rules over a loaded post. `moderates`: FeedPolicy.moderate for the viewer and the post's community. */
export const PostPolicy = {
  /** Members' view: live events, comment counts and the home feed show only these. */
  visibleToMembers(post: Pick<PostAccess, 'hidden' | 'deleted'>): boolean {
    return !post.deleted && !post.hidden;
  },
  /** Opened by id (GET /posts/:id, and every change to it, its comments, reactions and poll). */
  open(post: PostAccess, moderates: boolean): boolean {
    if (post.deleted) return false;
    return moderates || (!post.hidden && !post.blocked);
  },
  /** Listed in a feed. */
  listed(post: PostAccess, moderates: boolean): boolean {
    return !post.deleted && (moderates || !post.hidden) && !post.muted && !post.blocked;
  },
} as const;

type UserId = string | Expression<string>;

/** The viewer muted `author`. */
export function mutedBy(viewerId: UserId, author: Expression<string>): Expression<SqlBool> {
  const eb = expressionBuilder<DB, never>();
  return eb.exists(
    eb.selectFrom('user_mutes as vm').select(sql.lit(1).as('one')).where('vm.muter_id', '=', viewerId).where('vm.muted_id', '=', author),
  );
}

/** Either of the two blocked the other: a block hides both ways. */
export function blockedBetween(viewerId: UserId, other: Expression<string>): Expression<SqlBool> {
  const eb = expressionBuilder<DB, never>();
  return eb.exists(
    eb
      .selectFrom('user_blocks as vb')
      .select(sql.lit(1).as('one'))
      .where((w) =>
        w.or([
          w.and([w('vb.blocker_id', '=', viewerId), w('vb.blocked_id', '=', other)]),
          w.and([w('vb.blocker_id', '=', other), w('vb.blocked_id', '=', viewerId)]),
        ]),
      ),
  );
}

/** The authors a viewer never sees in lists: people they muted, people they blocked, people who blocked them. */
export function excludedAuthorIds(viewerId: UserId) {
  const eb = expressionBuilder<DB, never>();
  return eb
    .selectFrom('user_mutes')
    .select('muted_id as id')
    .where('muter_id', '=', viewerId)
    .unionAll(eb.selectFrom('user_blocks').select('blocked_id as id').where('blocker_id', '=', viewerId))
    .unionAll(eb.selectFrom('user_blocks').select('blocker_id as id').where('blocked_id', '=', viewerId));
}

/** `author` is someone the viewer sees in lists (neither muted nor on either side of a block). */
export function authorListedTo(viewerId: UserId, author: Expression<string>): Expression<SqlBool> {
  const eb = expressionBuilder<DB, never>();
  return eb(author, 'not in', excludedAuthorIds(viewerId));
}

/** A post row aliased `p`, the scope the predicates below are written in. */
type PostScope = DB & { p: DB['posts'] };

/** `PostPolicy.visibleToMembers` over the post row `p`. */
export function postVisibleToMembers(): Expression<SqlBool> {
  const eb = expressionBuilder<PostScope, 'p'>();
  return eb.and([eb('p.deleted_at', 'is', null), eb('p.hidden_at', 'is', null)]);
}

/** `PostPolicy.open` over the post row `p`, for `viewerId`. */
export function postOpenTo(viewerId: string, moderates: boolean): Expression<SqlBool> {
  const eb = expressionBuilder<PostScope, 'p'>();
  if (moderates) return eb('p.deleted_at', 'is', null);
  return eb.and([postVisibleToMembers(), eb.not(blockedBetween(viewerId, eb.ref('p.author_id')))]);
}

/** `PostPolicy.listed` over the post row `p`, for `viewerId`: the feeds' filter. */
export function postListedTo(viewerId: string, moderates: boolean): Expression<SqlBool> {
  const eb = expressionBuilder<PostScope, 'p'>();
  return eb.and([
    moderates ? eb('p.deleted_at', 'is', null) : postVisibleToMembers(),
    authorListedTo(viewerId, eb.ref('p.author_id')),
  ]);
}

/** A condition as a selected column: PostgreSQL answers true or false. */
export const selectedFlag = (condition: Expression<SqlBool>) => sql<boolean>`${condition}`;

/**
 * Posts with what `PostPolicy` reads about them for `viewerId`, for callers to narrow (`where p.id …`), extend with
 * the columns they need and lock (`forUpdate('p')`). The rows are `PostAccess` as they are.
 */
export function selectPostAccess(q: QueryCreator<DB>, viewerId: string) {
  return q.selectFrom('posts as p').select((eb) => [
    'p.id',
    'p.community_id',
    'p.author_id',
    selectedFlag(eb('p.hidden_at', 'is not', null)).as('hidden'),
    selectedFlag(eb('p.deleted_at', 'is not', null)).as('deleted'),
    selectedFlag(mutedBy(viewerId, eb.ref('p.author_id'))).as('muted'),
    selectedFlag(blockedBetween(viewerId, eb.ref('p.author_id'))).as('blocked'),
  ]);
}
