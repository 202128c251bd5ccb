import type { RestrictionDto } from '../../contracts/moderation.ts';
import { db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';

/**
 * `GET /me/restrictions`: the caller's running timeouts and standing bans (a kick's block while it lasts), by
 * community. Pages load it when they open so a timeout that arrived before a reload still shows, and still disables
 * the composers; what has run out is not listed.
 */
export async function listMyRestrictions(deps: Deps, actor: Actor): Promise<RestrictionDto[]> {
  const q = db(deps.orm.em.fork());
  const now = deps.clock.now();
  const [timeouts, bans] = await Promise.all([
    q
      .selectFrom('community_timeouts as t')
      .innerJoin('communities as c', 'c.id', 't.community_id')
      .select(['t.community_id', 'c.name', 't.reason', 't.until'])
      .where('t.user_id', '=', actor.userId)
      .where('t.until', '>', now)
      .execute(),
    q
      .selectFrom('community_bans as b')
      .innerJoin('communities as c', 'c.id', 'b.community_id')
      .select(['b.community_id', 'c.name', 'b.reason', 'b.expires_at'])
      .where('b.user_id', '=', actor.userId)
      .where((eb) => eb.or([eb('b.expires_at', 'is', null), eb('b.expires_at', '>', now)]))
      .execute(),
  ]);
  return [
    ...bans.map((b) => ({
      communityId: b.community_id,
      communityName: b.name,
      kind: 'ban' as const,
      reason: b.reason,
      until: b.expires_at?.toISOString() ?? null,
    })),
    ...timeouts.map((t) => ({ communityId: t.community_id, communityName: t.name, kind: 'timeout' as const, reason: t.reason, until: t.until.toISOString() })),
  ];
}
