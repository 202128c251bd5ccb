import type { CommunityRole } from '../../contracts/communities.ts';
import type { Actor } from '../shared/deps.ts';

const RANK: Record<CommunityRole, number> = { member: 0, moderator: 1, admin: 2, owner: 3 };
const rank = (role: CommunityRole | null) => (role ? RANK[role] : -1);
const platformModerator = (actor: Actor) => actor.role === 'moderator' || actor.role === 'admin';

/**
 * Who moderates what. A community's moderators, admins and owners moderate that community only; platform moderators
 * and admins moderate every community. Pure functions of loaded data, shared by REST and sockets.
 */
export const ModerationPolicy = {
  /** See the queue, claim cases, act on content, warn, time out. */
  moderate(actor: Actor, communityRole: CommunityRole | null): boolean {
    return rank(communityRole) >= RANK.moderator || platformModerator(actor);
  },
  /** Act on a person (warn, timeout, kick, ban): strictly above their rank in the community, or platform staff. */
  actOn(actor: Actor, actorRole: CommunityRole | null, targetRole: CommunityRole | null): boolean {
    if (platformModerator(actor)) return targetRole !== 'owner' || actor.role === 'admin';
    return rank(actorRole) >= RANK.moderator && rank(actorRole) > rank(targetRole);
  },
  /** Audit log and automod settings: community admins and owners, and platform admins. */
  administer(actor: Actor, communityRole: CommunityRole | null): boolean {
    return rank(communityRole) >= RANK.admin || actor.role === 'admin';
  },
  /** Suspend or restore an account: platform admins only. */
  suspend(actor: Actor): boolean {
    return actor.role === 'admin';
  },
  /** Slow mode and link limits do not apply to moderators. */
  exemptFromAutomod(actor: Actor, communityRole: CommunityRole | null): boolean {
    return ModerationPolicy.moderate(actor, communityRole);
  },
} as const;
