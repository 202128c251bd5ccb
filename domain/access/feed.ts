import type { CommunityRole } from '../../contracts/communities.ts';
import { activeBar, loadStanding } from './membership.ts';
import type { Queries } from './queries.ts';
import { ModerationPolicy } from './moderation.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';

/** What the feed rules need about the caller and a community, loaded in one query. */
export interface FeedAccess {
  communityId: string;
  visibility: 'public' | 'private';
  /** The caller's role, or null when not a member. */
  role: CommunityRole | null;
  /** Banned or kicked (until the kick expires) from this community. */
  banned: boolean;
}

/**
 * Pure rules over loaded data, shared by REST and sockets. A public community's feed can be read before joining (and
 * followed people's posts there reach the home feed); a private one only by its members. Banned and kicked people read
 * nothing. Taking part — posting, commenting, reacting, voting — is for members. Moderators as ModerationPolicy says.
 */
export const FeedPolicy = {
  read(actor: Actor, a: FeedAccess): boolean {
    if (ModerationPolicy.moderate(actor, a.role)) return true;
    return !a.banned && (a.visibility === 'public' || a.role !== null);
  },
  contribute(actor: Actor, a: FeedAccess): boolean {
    return a.role !== null && FeedPolicy.read(actor, a);
  },
  moderate(actor: Actor, a: FeedAccess): boolean {
    return ModerationPolicy.moderate(actor, a.role);
  },
} as const;

export type FeedAction = keyof typeof FeedPolicy;

/** The caller's standing in a live community, with any bar judged at `now` (the domain clock); null when there is none. */
export async function loadFeedAccess(
  source: Queries,
  userId: string,
  communityId: string,
  now: Date,
): Promise<FeedAccess | null> {
  const standing = await loadStanding(source, userId, communityId);
  if (!standing || standing.archived) return null;
  return { communityId, visibility: standing.visibility, role: standing.role, banned: activeBar(standing, now) !== null };
}

/**
 * Checks one action on loaded access. A community the caller may not read answers `not_found` (private communities are
 * not revealed); readable-but-refused answers `forbidden`.
 */
export function checkFeedAccess(actor: Actor, access: FeedAccess | null, action: FeedAction, notFound = 'No such community.'): FeedAccess {
  if (!access || !FeedPolicy.read(actor, access)) throw new AppError('not_found', notFound);
  if (!FeedPolicy[action](actor, access)) {
    throw new AppError('forbidden', action === 'contribute' ? 'Join the community to take part.' : 'Only moderators can do that here.');
  }
  return access;
}

export async function authorizeFeed(
  source: Queries,
  actor: Actor,
  communityId: string,
  action: FeedAction,
  now: Date,
): Promise<FeedAccess> {
  return checkFeedAccess(actor, await loadFeedAccess(source, actor.userId, communityId, now), action);
}

/** `feed:subscribe`: joining a community's feed room is reading it. */
export async function authorizeFeedSubscription(deps: Deps, actor: Actor, communityId: string): Promise<void> {
  await authorizeFeed(deps.orm.em.fork(), actor, communityId, 'read', deps.clock.now());
}
