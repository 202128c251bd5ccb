import { sql } from 'kysely';
import type { CommunityRole } from '../../contracts/communities.ts';
import type { Db } from '../../orm/db.ts';
import { ModerationPolicy } from './moderation.ts';
import type { Actor } from '../shared/deps.ts';
import { isPlatformModerator, MODERATING_ROLES } from './roles.ts';

/*
 * Who sees a moderation case: whoever moderates the case's community — its moderators, admins and owners — and platform
 * moderators and admins, everywhere. Seeing a case is what lets someone read it, hear of it in the queue, claim it and
 * act on it; to everyone else it does not exist (`not_found`).
 */

/** What the rule needs about one case and one actor, loaded together. */
export interface ModerationCaseAccess {
  caseId: string;
  communityId: string;
  /** The actor's role in the case's community; null when not a member. */
  role: CommunityRole | null;
  /** The community was archived: its queue is gone with it (the console no longer lists or opens its cases). */
  communityArchived: boolean;
}

/** Pure rules over a loaded case. */
export const ModerationCasePolicy = {
  see: (actor: Actor, access: ModerationCaseAccess): boolean => ModerationPolicy.moderate(actor, access.role),
} as const;

/**
 * One case with `userId`'s standing in its community, for callers to extend with the columns they need (and a lock
 * on `k`); `toCaseAccess` turns a row into what the policy reads.
 */
export function selectCaseAccess(q: Db, userId: string) {
  return q
    .selectFrom('moderation_cases as k')
    .innerJoin('communities as kc', 'kc.id', 'k.community_id')
    .leftJoin('community_members as me', (join) => join.onRef('me.community_id', '=', 'k.community_id').on('me.user_id', '=', userId))
    .select(['k.id', 'k.community_id', 'me.role', 'kc.archived_at']);
}

export function toCaseAccess(row: { id: string; community_id: string; role: CommunityRole | null; archived_at: Date | null }): ModerationCaseAccess {
  return { caseId: row.id, communityId: row.community_id, role: row.role, communityArchived: row.archived_at !== null };
}

/** The case's access for `actor`, or null when there is no such case. */
export async function loadCaseAccess(q: Db, actor: Pick<Actor, 'userId'>, caseId: string): Promise<ModerationCaseAccess | null> {
  const row = await selectCaseAccess(q, actor.userId).where('k.id', '=', caseId).executeTakeFirst();
  return row ? toCaseAccess(row) : null;
}

/**
 * `ModerationCasePolicy.see` as a query: the ids of the cases `actor` sees — every case for platform staff, else the
 * cases of the communities they moderate. For the queue and anything else that lists or counts cases.
 */
export function visibleCaseIds(q: Db, actor: Actor) {
  const cases = q.selectFrom('moderation_cases as k').select('k.id');
  if (isPlatformModerator(actor)) return cases;
  return cases.where((eb) =>
    eb.exists(
      eb
        .selectFrom('community_members as moderator')
        .select(sql.lit(1).as('one'))
        .whereRef('moderator.community_id', '=', 'k.community_id')
        .where('moderator.user_id', '=', actor.userId)
        .where('moderator.role', 'in', MODERATING_ROLES),
    ),
  );
}
