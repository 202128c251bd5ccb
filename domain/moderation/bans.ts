import type { CommunityRole } from '../../contracts/communities.ts';
import { BAN_HIDE_MESSAGES_HOURS, type BanDto } from '../../contracts/moderation.ts';
import { db, type Db } from '../../orm/db.ts';
import { activeBar, loadStanding, type Bar } from '../access/membership.ts';
import { assertNotLastOwner, deleteMembership } from '../communities/membership.ts';
import { moderateMessage } from '../chat/moderation.ts';
import { revokeCommunityAccess } from '../communities/revoke.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { recordAudit } from './audit.ts';
import { authorizeModeration } from './cases.ts';
import { ModerationPolicy } from '../access/moderation.ts';

/** The target's role in the community (null: not a member), for the rank rule. */
export async function memberRole(q: Db, communityId: string, userId: string): Promise<CommunityRole | null> {
  const member = await q
    .selectFrom('community_members')
    .select('role')
    .where('community_id', '=', communityId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return member?.role ?? null;
}

/** Refuses acting on oneself or on someone of equal or higher rank (ModerationPolicy.actOn). */
export function assertMayActOn(actor: Actor, actorRole: CommunityRole | null, targetUserId: string, targetRole: CommunityRole | null): void {
  if (targetUserId === actor.userId) throw new AppError('forbidden', 'You cannot take moderation action against yourself.');
  if (!ModerationPolicy.actOn(actor, actorRole, targetRole)) {
    throw new AppError('forbidden', `You cannot act on a community ${targetRole ?? 'member'}: only someone of higher rank can.`);
  }
}

/** A bar as the audit log records it. */
const auditedBar = (bar: Bar) => ({ reason: bar.reason, expiresAt: bar.until?.toISOString() ?? null });

export interface Removal {
  communityId: string;
  userId: string;
  reason: string;
  /** Null: banned for good. */
  rejoinAfter: Date | null;
  /** The community's channels the person could no longer read (empty when they were not a member). */
  channelIds: string[];
  before: { role: CommunityRole | null; ban: ReturnType<typeof auditedBar> | null };
  after: { role: null; ban: ReturnType<typeof auditedBar> };
}

/**
 * Bars a person from a community (a ban, or a kick's temporary block) and ends their membership, in the caller's
 * transaction; the caller has checked the rank rule. A kick never shortens a standing ban. Locks the community row,
 * as every membership change does, so the last-owner rule holds; the person's standing is read once the lock is held,
 * so a bar or a role change that committed meanwhile is what it starts from.
 */
export async function barFromCommunity(
  q: Db,
  bar: { communityId: string; userId: string; reason: string; byId: string; rejoinAfter: Date | null; at: Date },
): Promise<Removal> {
  await q.selectFrom('communities').select('id').where('id', '=', bar.communityId).forUpdate().execute();
  const standing = await loadStanding(q, bar.userId, bar.communityId);
  const role = standing?.role ?? null;
  const previous = standing && activeBar(standing, bar.at);
  if (role === 'owner') await assertNotLastOwner(q, bar.communityId, 'The last owner cannot be removed: make someone else owner first.');
  // A standing ban (no expiry) stays as it is; a kick's block, running or run out, gives way to the new bar.
  const stored = await q
    .insertInto('community_bans')
    .values({
      community_id: bar.communityId,
      user_id: bar.userId,
      reason: bar.reason,
      banned_by_id: bar.byId,
      created_at: bar.at,
      expires_at: bar.rejoinAfter,
    })
    .onConflict((conflict) =>
      conflict
        .columns(['community_id', 'user_id'])
        .doUpdateSet((eb) => ({
          reason: eb.ref('excluded.reason'),
          banned_by_id: eb.ref('excluded.banned_by_id'),
          created_at: eb.ref('excluded.created_at'),
          expires_at: eb.ref('excluded.expires_at'),
        }))
        .where('community_bans.expires_at', 'is not', null),
    )
    .returning(['reason', 'expires_at'])
    .executeTakeFirst();
  const channelIds = role === null ? [] : await deleteMembership(q, bar.communityId, bar.userId);
  const standingBar: Bar = stored ? { reason: stored.reason, until: stored.expires_at } : previous!;
  return {
    communityId: bar.communityId,
    userId: bar.userId,
    reason: bar.reason,
    rejoinAfter: standingBar.until,
    channelIds,
    before: { role, ban: previous ? auditedBar(previous) : null },
    after: { role: null, ban: auditedBar(standingBar) },
  };
}

/**
 * After commit: the person hears why, then loses every room of the community — channels, feed, presence, live
 * classrooms, the moderation queue — on every node, through the cluster adapter.
 */
export async function announceRemoval(deps: Deps, removal: Removal): Promise<void> {
  await deps.events.emit('member.barred', {
    communityId: removal.communityId,
    userId: removal.userId,
    reason: removal.reason,
    rejoinAfter: removal.rejoinAfter?.toISOString() ?? null,
  });
  await revokeCommunityAccess(deps, removal.userId, removal.communityId, removal.channelIds);
}

/** The most messages one ban hides; a spammer with more than this has the rest hidden by hand (or a second pass). */
const MAX_HIDDEN_ON_BAN = 500;

export interface HiddenOnBan {
  /** How many messages were hidden (the audit entry records it). */
  count: number;
  /** After commit: each hide reaches the channel's readers (as message:updated with a tombstone). */
  publish: () => Promise<void>;
}

/**
 * A ban's "also hide their recent messages": every visible message of the person in the community's channels from the
 * last BAN_HIDE_MESSAGES_HOURS, hidden through the same path a moderator's hide takes (moderateMessage: next seq,
 * mentions dropped, history returns a tombstone), in the caller's transaction.
 */
export async function hideRecentMessagesOf(
  deps: Deps,
  q: Db,
  input: { communityId: string; userId: string; moderatorId: string; at: Date },
): Promise<HiddenOnBan> {
  const since = new Date(input.at.getTime() - BAN_HIDE_MESSAGES_HOURS * 3_600_000);
  const rows = await q
    .selectFrom('messages as m')
    .innerJoin('channels as c', 'c.id', 'm.channel_id')
    .select('m.id')
    .where('c.community_id', '=', input.communityId)
    .where('m.author_id', '=', input.userId)
    .where('m.created_at', '>=', since)
    .where('m.hidden_at', 'is', null)
    .where('m.deleted_at', 'is', null)
    // Oldest first: each hide takes its channel's next seq, so readers apply them in the order they were written.
    .orderBy('m.created_at')
    .orderBy('m.id')
    .limit(MAX_HIDDEN_ON_BAN)
    .execute();
  const publishers: (() => Promise<void>)[] = [];
  for (const row of rows) {
    const moderated = await moderateMessage(deps, q, row.id, { hide: true }, input.moderatorId);
    publishers.push(moderated.publish);
  }
  return {
    count: rows.length,
    publish: async () => {
      for (const publish of publishers) await publish();
    },
  };
}

/** `POST /communities/:id/bans`: a ban without a case (someone seen misbehaving, or not yet a member). */
export async function banUser(
  deps: Deps,
  actor: Actor,
  communityId: string,
  input: { userId: string; reason: string; hideRecentMessages?: boolean },
): Promise<BanDto> {
  const { removal, hidden } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const actorRole = await authorizeModeration(q, actor, communityId, 'moderate', { lock: true });
    const user = await q.selectFrom('users').select('id').where('id', '=', input.userId).executeTakeFirst();
    if (!user) throw new AppError('not_found', 'No such user.');
    assertMayActOn(actor, actorRole, input.userId, await memberRole(q, communityId, input.userId));
    const at = deps.clock.now();
    const removal = await barFromCommunity(q, { communityId, userId: input.userId, reason: input.reason, byId: actor.userId, rejoinAfter: null, at });
    const hidden = input.hideRecentMessages
      ? await hideRecentMessagesOf(deps, q, { communityId, userId: input.userId, moderatorId: actor.userId, at })
      : null;
    const after = hidden ? { ...removal.after, hiddenMessages: hidden.count } : removal.after;
    await recordAudit(
      q,
      { communityId, actorId: actor.userId, action: 'ban', targetType: 'user', targetId: input.userId, targetUserId: input.userId, reason: input.reason, before: removal.before, after },
      at,
    );
    return { removal, hidden };
  });
  await announceRemoval(deps, removal);
  await hidden?.publish();
  return (await loadBans(db(deps.orm.em.fork()), communityId, deps.clock.now(), input.userId))[0]!;
}

/** Lifts a ban or a kick's block; the person may join again (they are not re-added). */
export async function unbanUser(deps: Deps, actor: Actor, communityId: string, userId: string): Promise<void> {
  await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    await authorizeModeration(q, actor, communityId);
    const at = deps.clock.now();
    const lifted = await q
      .deleteFrom('community_bans')
      .where('community_id', '=', communityId)
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
      .returning(['reason', 'expires_at'])
      .executeTakeFirst();
    if (!lifted) throw new AppError('not_found', 'That person is not banned here.');
    await recordAudit(
      q,
      {
        communityId,
        actorId: actor.userId,
        action: 'unban',
        targetType: 'user',
        targetId: userId,
        targetUserId: userId,
        before: { ban: auditedBar({ reason: lifted.reason, until: lifted.expires_at }) },
        after: { ban: null },
      },
      at,
    );
  });
}

/** Standing bans and kick blocks, newest first. */
export async function listBans(deps: Deps, actor: Actor, communityId: string): Promise<BanDto[]> {
  const q = db(deps.orm.em.fork());
  await authorizeModeration(q, actor, communityId);
  return loadBans(q, communityId, deps.clock.now());
}

async function loadBans(q: Db, communityId: string, now: Date, userId?: string): Promise<BanDto[]> {
  let query = q
    .selectFrom('community_bans as b')
    .innerJoin('users as u', 'u.id', 'b.user_id')
    .leftJoin('users as bu', 'bu.id', 'b.banned_by_id')
    .select(['b.user_id', 'u.display_name', 'b.reason', 'b.banned_by_id', 'bu.display_name as banned_by_name', 'b.created_at', 'b.expires_at'])
    .where('b.community_id', '=', communityId)
    .where((eb) => eb.or([eb('b.expires_at', 'is', null), eb('b.expires_at', '>', now)]));
  if (userId) query = query.where('b.user_id', '=', userId);
  const rows = await query.orderBy('b.created_at', 'desc').orderBy('b.user_id').limit(500).execute();
  return rows.map((r) => ({
    user: { id: r.user_id, displayName: r.display_name },
    reason: r.reason,
    bannedBy: r.banned_by_id ? { id: r.banned_by_id, displayName: r.banned_by_name ?? '' } : null,
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at?.toISOString() ?? null,
  }));
}
