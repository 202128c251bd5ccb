import type { CommunityRole } from '../../contracts/communities.ts';

/** What the community rules need to know about the caller, loaded with the community. */
export interface CommunityAccess {
  communityId: string;
  visibility: 'public' | 'private';
  /** The caller's role, or null when not a member. */
  role: CommunityRole | null;
}

const RANK: Record<CommunityRole, number> = { owner: 3, admin: 2, moderator: 1, member: 0 };
const rank = (role: CommunityRole | null) => (role === null ? -1 : RANK[role]);

/** Pure rules over loaded data; checked inside the domain operations so every transport agrees. */
export const CommunityPolicy = {
  /** Private communities do not exist for outsiders (`not_found`, never `forbidden`). */
  view: (a: CommunityAccess) => a.visibility === 'public' || a.role !== null,
  join: (a: CommunityAccess) => a.visibility === 'public',
  invite: (a: CommunityAccess) => rank(a.role) >= RANK.moderator,
  listMembers: (a: CommunityAccess) => a.role !== null,
  listChannels: (a: CommunityAccess) => a.role !== null,
  createChannel: (a: CommunityAccess) => rank(a.role) >= RANK.admin,

  /**
   * Owners may set any role on anyone (several owners may coexist; "transferring" is promoting someone to owner).
   * Admins may move people between moderator and member, but never touch owners or other admins.
   * The last-owner rule needs a count and is checked separately.
   */
  setRole(actorRole: CommunityRole | null, targetRole: CommunityRole, newRole: CommunityRole): boolean {
    if (actorRole === 'owner') return true;
    if (actorRole === 'admin') return rank(targetRole) <= RANK.moderator && rank(newRole) <= RANK.moderator;
    return false;
  },

  /** Kick: moderators and up, strictly above the target's rank. */
  remove(actorRole: CommunityRole | null, targetRole: CommunityRole): boolean {
    return rank(actorRole) >= RANK.moderator && rank(actorRole) > rank(targetRole);
  },
} as const;
