import { sql } from 'kysely';
import { queriesOf, type Queries } from '../access/queries.ts';
import { AppError } from '../shared/errors.ts';

/*
 * Membership primitives every community feature builds on: the last-owner rule and the removal of a membership. Who
 * may see a community and the caller's standing in it are access rules (domain/access/community.ts, membership.ts).
 */

/**
 * Deletes a membership with the user's private-channel memberships in that community; returns the community's channel
 * ids, all of which the user can no longer read. Runs inside the caller's transaction (community row locked).
 */
export async function deleteMembership(source: Queries, communityId: string, userId: string): Promise<string[]> {
  const q = queriesOf(source);
  const channels = await q.selectFrom('channels').select('id').where('community_id', '=', communityId).execute();
  await q
    .deleteFrom('channel_members')
    .where('user_id', '=', userId)
    .where('channel_id', 'in', q.selectFrom('channels').select('id').where('community_id', '=', communityId))
    .execute();
  await q.deleteFrom('community_members').where('community_id', '=', communityId).where('user_id', '=', userId).execute();
  return channels.map((c) => c.id);
}

export async function assertNotLastOwner(source: Queries, communityId: string, message: string): Promise<void> {
  const { owners } = await queriesOf(source)
    .selectFrom('community_members')
    .select(sql<number>`count(*)::int`.as('owners'))
    .where('community_id', '=', communityId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  if (owners <= 1) throw new AppError('conflict', message);
}
