import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { Sql } from '../shared/sql.ts';
import { openAutomodCase } from '../moderation/cases.ts';
import { checkFeedAccess, FeedPolicy, loadFeedAccess, type FeedAccess, type FeedAction } from './access.ts';
import { blockedBetween } from './visibility.ts';

export interface LockedPost {
  id: string;
  community_id: string;
  author_id: string;
  kind: 'text' | 'link' | 'poll';
  body: string;
  poll_options: string[] | null;
  pinned_at: Date | string | null;
  hidden: boolean;
}

export interface PostContext {
  post: LockedPost;
  access: FeedAccess;
  moderates: boolean;
}

/**
 * Loads a post for `action` by the caller, optionally locking its row (every change to a post, its comments or its
 * reactions locks it first, so counts are recomputed one writer at a time). Whatever the caller may not see answers
 * `not_found` alike: unknown or deleted posts, posts in communities they cannot read, hidden posts (moderators excepted)
 * and posts between people where one blocked the other (moderators excepted, they must be able to act on them).
 */
export async function loadPostFor(
  deps: Deps,
  sql: Sql,
  actor: Actor,
  postId: string,
  action: FeedAction,
  options: { lock?: boolean } = {},
): Promise<PostContext> {
  const [post] = await sql<LockedPost>(
    `select id, community_id, author_id, kind, body, poll_options, pinned_at, hidden_at is not null as hidden
     from posts where id = ? and deleted_at is null ${options.lock ? 'for update' : ''}`,
    [postId],
  );
  if (!post) throw new AppError('not_found', 'No such post.');
  const access = await loadFeedAccess(sql, actor.userId, post.community_id, deps.clock.now());
  checkFeedAccess(actor, access, 'read', 'No such post.');
  const moderates = FeedPolicy.moderate(actor, access!);
  if (!moderates && (post.hidden || (await blockedBetween(sql, actor.userId, post.author_id)))) {
    throw new AppError('not_found', 'No such post.');
  }
  checkFeedAccess(actor, access, action, 'No such post.');
  return { post, access: access!, moderates };
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

