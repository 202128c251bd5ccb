import { expressionBuilder, sql, type Expression, type SqlBool } from 'kysely';
import type { CommunityRole } from '../../contracts/communities.ts';
import type { DB } from '../../orm/db.ts';
import { AppError } from '../shared/errors.ts';
import { queriesOf, type Queries } from './queries.ts';

/*
 * A person's standing in communities, loaded in one place: whether the community is there for them (visibility,
 * archived), their role, and the bar on record — a ban (for good) or a kick (barred until its block runs out). Every
 * rule that asks "may this person be here?" starts from this load, for one pair or many.
 *
 * A bar is judged on the domain clock (`deps.clock.now()`, the clock that set it): `activeBar` for loaded standings,
 * `barredAt` for the same rule inside a query.
 */

export interface Bar {
  reason: string;
  /** Null: banned for good. Otherwise a kick, whose block runs out at this moment. */
  until: Date | null;
}

export interface CommunityStanding {
  userId: string;
  communityId: string;
  visibility: 'public' | 'private';
  archived: boolean;
  /** Null when not a member. A bar removes the membership, so a barred person has none. */
  role: CommunityRole | null;
  /** The ban or kick on record (at most one per person and community), whether or not it still stands. */
  ban: Bar | null;
}

export const standingKey = (userId: string, communityId: string) => `${userId}:${communityId}`;

/** The bar standing at `now`: a ban, or a kick whose block has not run out. */
export function activeBar(standing: Pick<CommunityStanding, 'ban'>, now: Date): Bar | null {
  const ban = standing.ban;
  return ban !== null && (ban.until === null || ban.until > now) ? ban : null;
}

/** `activeBar` as a query predicate: `user` is barred from `community` at `now`. */
export function barredAt(user: string | Expression<string>, community: string | Expression<string>, now: Date): Expression<SqlBool> {
  const eb = expressionBuilder<DB, never>();
  return eb.exists(
    eb
      .selectFrom('community_bans as bar')
      .select(sql.lit(1).as('one'))
      .where('bar.user_id', '=', user)
      .where('bar.community_id', '=', community)
      .where((w) => w.or([w('bar.expires_at', 'is', null), w('bar.expires_at', '>', now)])),
  );
}

/**
 * Standings for many (user, community) pairs in one statement, keyed by `standingKey`; unknown communities are absent.
 * `lock` takes the community rows FOR UPDATE (membership changes that count owners, bars) or FOR SHARE.
 */
export async function loadStandings(
  source: Queries,
  pairs: readonly { userId: string; communityId: string }[],
  options: { lock?: 'update' | 'share' } = {},
): Promise<Map<string, CommunityStanding>> {
  const result = new Map<string, CommunityStanding>();
  if (!pairs.length) return result;
  let query = queriesOf(source)
    .selectFrom(
      sql<{ user_id: string; community_id: string }>`unnest(${pairs.map((p) => p.userId)}::uuid[], ${pairs.map((p) => p.communityId)}::uuid[])`.as<'p'>(
        sql`p(user_id, community_id)`,
      ),
    )
    .innerJoin('communities as c', 'c.id', 'p.community_id')
    .leftJoin('community_members as me', (join) => join.onRef('me.community_id', '=', 'c.id').onRef('me.user_id', '=', 'p.user_id'))
    .leftJoin('community_bans as b', (join) => join.onRef('b.community_id', '=', 'c.id').onRef('b.user_id', '=', 'p.user_id'))
    .select(['p.user_id', 'p.community_id', 'c.visibility', 'c.archived_at', 'me.role', 'b.reason', 'b.expires_at']);
  if (options.lock === 'update') query = query.forUpdate('c');
  if (options.lock === 'share') query = query.forShare('c');
  for (const row of await query.execute()) {
    result.set(standingKey(row.user_id, row.community_id), {
      userId: row.user_id,
      communityId: row.community_id,
      visibility: row.visibility,
      archived: row.archived_at !== null,
      role: row.role,
      ban: row.reason === null ? null : { reason: row.reason, until: row.expires_at },
    });
  }
  return result;
}

export async function loadStanding(
  source: Queries,
  userId: string,
  communityId: string,
  options: { lock?: 'update' | 'share' } = {},
): Promise<CommunityStanding | null> {
  return (await loadStandings(source, [{ userId, communityId }], options)).get(standingKey(userId, communityId)) ?? null;
}

/** Why a barred person cannot (re)join: for good after a ban, until the block runs out after a kick. */
export function barredError(bar: Bar, now: Date): AppError {
  if (bar.until === null) return new AppError('forbidden', 'You are banned from this community.', { details: { banned: true } });
  const until = bar.until.toISOString();
  return new AppError('forbidden', `You were removed from this community and can rejoin after ${until}.`, {
    details: { rejoinAfter: until },
    retryAfter: Math.max(1, Math.ceil((bar.until.getTime() - now.getTime()) / 1000)),
  });
}

/**
 * Joining (publicly or by invite) refuses someone the community barred, judged at `now` (the domain clock). Call it in
 * the transaction that adds the membership. Two statements on purpose: the share lock on the community first waits
 * for a bar being written (which holds the row for update), and only the statement after it sees that bar — a single
 * locking statement would read the bars as they were before it waited.
 */
export async function assertNotBanned(source: Queries, communityId: string, userId: string, now: Date): Promise<void> {
  const q = queriesOf(source);
  await q.selectFrom('communities').select('id').where('id', '=', communityId).forShare().execute();
  const standing = await loadStanding(q, userId, communityId);
  const bar = standing && activeBar(standing, now);
  if (bar) throw barredError(bar, now);
}
