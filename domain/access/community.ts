import { expressionBuilder, sql, type Expression, type QueryCreator, type SqlBool } from 'kysely';
import type { CommunityRole } from '../../contracts/communities.ts';
import type { DB } from '../../orm/db.ts';
import type { Actor } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { loadStanding } from './membership.ts';
import type { Queries } from './queries.ts';
import { COMMUNITY_RANK, rankOf } from './roles.ts';

/** What the community rules need to know about the caller, loaded with the community. */
export interface CommunityAccess {
  communityId: string;
  visibility: 'public' | 'private';
  /** The caller's role, or null when not a member. */
  role: CommunityRole | null;
}

/** Pure rules over loaded data; checked inside the domain operations so every transport agrees. */
export const CommunityPolicy = {
  /** Private communities do not exist for outsiders (`not_found`, never `forbidden`). */
  view: (a: CommunityAccess) => a.visibility === 'public' || a.role !== null,
  join: (a: CommunityAccess) => a.visibility === 'public',
  invite: (a: CommunityAccess) => rankOf(a.role) >= COMMUNITY_RANK.moderator,
  listMembers: (a: CommunityAccess) => a.role !== null,
  listChannels: (a: CommunityAccess) => a.role !== null,
  createChannel: (a: CommunityAccess) => rankOf(a.role) >= COMMUNITY_RANK.admin,

  /**
   * Owners may set any role on anyone (several owners may coexist; "transferring" is promoting someone to owner).
   * Admins may move people between moderator and member, but never touch owners or other admins.
   * The last-owner rule needs a count and is checked separately.
   */
  setRole(actorRole: CommunityRole | null, targetRole: CommunityRole, newRole: CommunityRole): boolean {
    if (actorRole === 'owner') return true;
    if (actorRole === 'admin') return rankOf(targetRole) <= COMMUNITY_RANK.moderator && rankOf(newRole) <= COMMUNITY_RANK.moderator;
    return false;
  },

  /** Kick: moderators and up, strictly above the target's rank. */
  remove(actorRole: CommunityRole | null, targetRole: CommunityRole): boolean {
    return rankOf(actorRole) >= COMMUNITY_RANK.moderator && rankOf(actorRole) > rankOf(targetRole);
  },
} as const;

/**
 * Loads the caller's standing in a live community. Communities the caller may not view answer `not_found`, so private
 * ones are not revealed; archived ones are gone for everyone. `lock` takes the community row FOR UPDATE: membership
 * changes that depend on counting owners run one at a time per community.
 */
export async function loadCommunityAccess(
  source: Queries,
  userId: string,
  communityId: string,
  options: { lock?: boolean; requireView?: boolean } = {},
): Promise<CommunityAccess> {
  const standing = await loadStanding(source, userId, communityId, options.lock ? { lock: 'update' } : {});
  const access = standing && !standing.archived ? { communityId, visibility: standing.visibility, role: standing.role } : null;
  if (!access || ((options.requireView ?? true) && !CommunityPolicy.view(access))) {
    throw new AppError('not_found', 'No such community.');
  }
  return access;
}

/**
 * `CommunityPolicy.view` over a community row `c` as a query predicate (with "not archived", which the loader checks):
 * public, or `userId` is a member.
 */
export function communityVisibleTo(userId: string | Expression<string>): Expression<SqlBool> {
  const eb = expressionBuilder<DB & { c: DB['communities'] }, 'c'>();
  return eb.and([
    eb('c.archived_at', 'is', null),
    eb.or([
      eb('c.visibility', '=', 'public'),
      eb.exists(
        eb
          .selectFrom('community_members as viewer')
          .select(sql.lit(1).as('one'))
          .whereRef('viewer.community_id', '=', 'c.id')
          .where('viewer.user_id', '=', userId),
      ),
    ]),
  ]);
}

/** The ids of the communities `actor` may see, for lists and search: `CommunityPolicy.view` as a subquery. */
export function visibleCommunityIds(q: QueryCreator<DB>, actor: Pick<Actor, 'userId'>) {
  return q.selectFrom('communities as c').select('c.id').where(communityVisibleTo(actor.userId));
}
