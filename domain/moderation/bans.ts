import type { z } from 'zod';
import type { CommunityRole } from '../../contracts/communities.ts';
import type { BanDto } from '../../contracts/moderation.ts';
import { rooms } from '../../contracts/realtime.ts';
import { assertNotLastOwner, deleteMembership } from '../communities/membership.ts';
import { revokeCommunityAccess } from '../communities/revoke.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { recordAudit } from './audit.ts';
import { authorizeModeration } from './cases.ts';
import { ModerationPolicy } from './policy.ts';
import { iso } from './presenters.ts';

type Ban = z.infer<typeof BanDto>;

interface BanRow {
  reason: string;
  expires_at: Date | string | null;
}

/** The target's role in the community (null: not a member), for the rank rule. */
export async function memberRole(sql: Sql, communityId: string, userId: string): Promise<CommunityRole | null> {
  const [row] = await sql<{ role: CommunityRole }>('select role from community_members where community_id = ? and user_id = ?', [communityId, userId]);
  return row?.role ?? null;
}

/** Refuses acting on oneself or on someone of equal or higher rank (ModerationPolicy.actOn). */
export function assertMayActOn(actor: Actor, actorRole: CommunityRole | null, targetUserId: string, targetRole: CommunityRole | null): void {
  if (targetUserId === actor.userId) throw new AppError('forbidden', 'You cannot take moderation action against yourself.');
  if (!ModerationPolicy.actOn(actor, actorRole, targetRole)) {
    throw new AppError('forbidden', `You cannot act on a community ${targetRole ?? 'member'}: only someone of higher rank can.`);
  }
}

export interface Removal {
  communityId: string;
  userId: string;
  reason: string;
  /** Null: banned for good. */
  rejoinAfter: Date | null;
  /** The community's channels the person could no longer read (empty when they were not a member). */
  channelIds: string[];
  before: { role: CommunityRole | null; ban: { reason: string; expiresAt: string | null } | null };
  after: { role: null; ban: { reason: string; expiresAt: string | null } };
}

/**
 * Bars a person from a community (a ban, or a kick's temporary block) and ends their membership, in the caller's
 * transaction; the caller has checked the rank rule. A kick never shortens a standing ban. Locks the community row,
 * as every membership change does, so the last-owner rule holds.
 */
export async function barFromCommunity(
  sql: Sql,
  bar: { communityId: string; userId: string; reason: string; byId: string; rejoinAfter: Date | null; at: Date },
): Promise<Removal> {
  await sql('select 1 from communities where id = ? for update', [bar.communityId]);
  const role = await memberRole(sql, bar.communityId, bar.userId);
  const [previous] = await sql<BanRow>(
    'select reason, expires_at from community_bans where community_id = ? and user_id = ? and (expires_at is null or expires_at > ?)',
    [bar.communityId, bar.userId, bar.at],
  );
  if (role === 'owner') await assertNotLastOwner(sql, bar.communityId, 'The last owner cannot be removed: make someone else owner first.');
  const [stored] = await sql<BanRow>(
    `insert into community_bans (community_id, user_id, reason, banned_by_id, created_at, expires_at) values (?, ?, ?, ?, ?, ?)
     on conflict (community_id, user_id) do update
       set reason = excluded.reason, banned_by_id = excluded.banned_by_id, created_at = excluded.created_at, expires_at = excluded.expires_at
       where community_bans.expires_at is not null
     returning reason, expires_at`,
    [bar.communityId, bar.userId, bar.reason, bar.byId, bar.at, bar.rejoinAfter],
  );
  const channelIds = role === null ? [] : await deleteMembership(sql, bar.communityId, bar.userId);
  const standing = stored ?? previous!;
  const banOf = (row: BanRow) => ({ reason: row.reason, expiresAt: row.expires_at === null ? null : iso(row.expires_at) });
  return {
    communityId: bar.communityId,
    userId: bar.userId,
    reason: bar.reason,
    rejoinAfter: standing.expires_at === null ? null : new Date(standing.expires_at),
    channelIds,
    before: { role, ban: previous ? banOf(previous) : null },
    after: { role: null, ban: banOf(standing) },
  };
}

/**
 * After commit: the person hears why, then loses every room of the community — channels, feed, presence, live
 * classrooms, the moderation queue — on every node, through the cluster adapter.
 */
export async function announceRemoval(deps: Deps, removal: Removal): Promise<void> {
  deps.publisher.toRoom(rooms.user(removal.userId), 'community:removed', {
    communityId: removal.communityId,
    reason: removal.reason,
    ban: removal.rejoinAfter === null,
    rejoinAfter: removal.rejoinAfter?.toISOString() ?? null,
  });
  // Kicked and banned people read nothing of the community, its public feed included (FeedPolicy.read).
  deps.publisher.leaveRoom(rooms.user(removal.userId), rooms.feed(removal.communityId));
  await revokeCommunityAccess(deps, removal.userId, removal.communityId, removal.channelIds);
}

/** `POST /communities/:id/bans`: a ban without a case (someone seen misbehaving, or not yet a member). */
export async function banUser(deps: Deps, actor: Actor, communityId: string, input: { userId: string; reason: string }): Promise<Ban> {
  const removal = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const actorRole = await authorizeModeration(sql, actor, communityId, 'moderate', { lock: true });
    const [user] = await sql('select 1 from users where id = ?', [input.userId]);
    if (!user) throw new AppError('not_found', 'No such user.');
    assertMayActOn(actor, actorRole, input.userId, await memberRole(sql, communityId, input.userId));
    const at = deps.clock.now();
    const removal = await barFromCommunity(sql, { communityId, userId: input.userId, reason: input.reason, byId: actor.userId, rejoinAfter: null, at });
    await recordAudit(
      sql,
      { communityId, actorId: actor.userId, action: 'ban', targetType: 'user', targetId: input.userId, targetUserId: input.userId, reason: input.reason, before: removal.before, after: removal.after },
      at,
    );
    return removal;
  });
  await announceRemoval(deps, removal);
  return (await loadBans(sqlOf(deps.orm.em.fork()), communityId, deps.clock.now(), input.userId))[0]!;
}

/** Lifts a ban or a kick's block; the person may join again (they are not re-added). */
export async function unbanUser(deps: Deps, actor: Actor, communityId: string, userId: string): Promise<void> {
  await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    await authorizeModeration(sql, actor, communityId);
    const at = deps.clock.now();
    const [lifted] = await sql<BanRow>(
      'delete from community_bans where community_id = ? and user_id = ? and (expires_at is null or expires_at > ?) returning reason, expires_at',
      [communityId, userId, at],
    );
    if (!lifted) throw new AppError('not_found', 'That person is not banned here.');
    await recordAudit(
      sql,
      {
        communityId,
        actorId: actor.userId,
        action: 'unban',
        targetType: 'user',
        targetId: userId,
        targetUserId: userId,
        before: { ban: { reason: lifted.reason, expiresAt: lifted.expires_at === null ? null : iso(lifted.expires_at) } },
        after: { ban: null },
      },
      at,
    );
  });
}

/** Standing bans and kick blocks, newest first. */
export async function listBans(deps: Deps, actor: Actor, communityId: string): Promise<Ban[]> {
  const sql = sqlOf(deps.orm.em.fork());
  await authorizeModeration(sql, actor, communityId);
  return loadBans(sql, communityId, deps.clock.now());
}

async function loadBans(sql: Sql, communityId: string, now: Date, userId?: string): Promise<Ban[]> {
  const rows = await sql<{
    user_id: string;
    display_name: string;
    reason: string;
    banned_by_id: string | null;
    banned_by_name: string | null;
    created_at: Date | string;
    expires_at: Date | string | null;
  }>(
    `select b.user_id, u.display_name, b.reason, b.banned_by_id, bu.display_name as banned_by_name, b.created_at, b.expires_at
     from community_bans b join users u on u.id = b.user_id left join users bu on bu.id = b.banned_by_id
     where b.community_id = ? and (b.expires_at is null or b.expires_at > ?) ${userId ? 'and b.user_id = ?' : ''}
     order by b.created_at desc, b.user_id limit 500`,
    userId ? [communityId, now, userId] : [communityId, now],
  );
  return rows.map((r) => ({
    user: { id: r.user_id, displayName: r.display_name },
    reason: r.reason,
    bannedBy: r.banned_by_id ? { id: r.banned_by_id, displayName: r.banned_by_name ?? '' } : null,
    createdAt: iso(r.created_at),
    expiresAt: r.expires_at === null ? null : iso(r.expires_at),
  }));
}
