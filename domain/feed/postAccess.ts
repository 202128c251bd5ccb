import type { Db } from '../../orm/db.ts';
import { PostPolicy, selectPostAccess } from '../access/post.ts';
import { openAutomodCase } from '../moderation/cases.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { checkFeedAccess, FeedPolicy, loadFeedAccess, type FeedAccess, type FeedAction } from '../access/feed.ts';

/** A post with what PostPolicy reads for the caller and what changes to it need; its row locked when `lock`. */
function loadPostRow(q: Db, viewerId: string, postId: string, lock: boolean) {
  return selectPostAccess(q, viewerId)
    .select(['p.kind', 'p.body', 'p.poll_options', 'p.pinned_at'])
    .where('p.id', '=', postId)
    .$if(lock, (qb) => qb.forUpdate())
    .executeTakeFirst();
}

export type LoadedPost = NonNullable<Awaited<ReturnType<typeof loadPostRow>>>;

export interface PostContext {
  post: LoadedPost;
  access: FeedAccess;
  moderates: boolean;
}

/**
 * Loads a post for `action` by the caller, optionally locking its row (every change to a post, its comments or its
 * reactions locks it first, so counts are recomputed one writer at a time). Whatever the caller may not see answers
 * `not_found` alike: unknown posts, posts in communities they cannot read, and posts PostPolicy.open refuses them
 * (deleted; hidden or across a block, moderators excepted).
 */
export async function loadPostFor(
  deps: Deps,
  q: Db,
  actor: Actor,
  postId: string,
  action: FeedAction,
  options: { lock?: boolean } = {},
): Promise<PostContext> {
  const post = await loadPostRow(q, actor.userId, postId, options.lock ?? false);
  // What not even a moderator may open (a deleted post) needs no look at the caller's standing.
  if (!post || !PostPolicy.open(post, true)) throw new AppError('not_found', 'No such post.');
  const access = checkFeedAccess(actor, await loadFeedAccess(q, actor.userId, post.community_id, deps.clock.now()), 'read', 'No such post.');
  const moderates = FeedPolicy.moderate(actor, access);
  if (!PostPolicy.open(post, moderates)) throw new AppError('not_found', 'No such post.');
  checkFeedAccess(actor, access, action, 'No such post.');
  return { post, access, moderates };
}

/** The text the community's rules look at: everything a member wrote into the post. */
export function contributionText(parts: readonly (string | null | undefined)[]): string {
  return parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join('\n');
}

/** After commit: words of the community's filter let through in flag mode open (or join) a case for review. */
export async function flagForReview(
  deps: Deps,
  flaggedWords: string[],
  target: { communityId: string; type: 'post' | 'comment'; id: string; authorId: string },
): Promise<void> {
  if (flaggedWords.length) await openAutomodCase(deps, target, flaggedWords);
}
