import type { CommunityRole } from '../../contracts/communities.ts';
import { COMMUNITY_RANK, isManagingRole, isModeratingRole, isPlatformAdmin, isPlatformModerator, rankOf } from './roles.ts';
import type { Actor } from '../shared/deps.ts';

/**
 * Who moderates what. A community's moderators, admins and owners moderate that community only; platform moderators
 * and admins moderate every community. Pure functions of loaded data, shared by REST and sockets.
 */
export const ModerationPolicy = {
  /** See the queue, claim cases, act on content, warn, time out. */
  moderate(actor: Actor, communityRole: CommunityRole | null): boolean {
    return isModeratingRole(communityRole) || isPlatformModerator(actor);
  },
  /** Act on a person (warn, timeout, kick, ban): strictly above their rank in the community, or platform staff. */
  actOn(actor: Actor, actorRole: CommunityRole | null, targetRole: CommunityRole | null): boolean {
    if (isPlatformModerator(actor)) return targetRole !== 'owner' || isPlatformAdmin(actor);
    return rankOf(actorRole) >= COMMUNITY_RANK.moderator && rankOf(actorRole) > rankOf(targetRole);
  },
  /** Audit log and automod settings: community admins and owners, and platform admins. */
  administer(actor: Actor, communityRole: CommunityRole | null): boolean {
    return isManagingRole(communityRole) || isPlatformAdmin(actor);
  },
  /** Suspend or restore an account: platform admins only. */
  suspend(actor: Actor): boolean {
    return isPlatformAdmin(actor);
  },
  /** Slow mode and link limits do not apply to moderators. */
  exemptFromAutomod(actor: Actor, communityRole: CommunityRole | null): boolean {
    return ModerationPolicy.moderate(actor, communityRole);
  },
} as const;
