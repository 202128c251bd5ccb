import type { CaseAction, CaseActionInput, CaseDto } from '../../contracts/moderation.ts';
import { KICK_DEFAULT_REJOIN_MINUTES } from '../../contracts/moderation.ts';
import { rooms } from '../../contracts/realtime.ts';
import { moderateMessage } from '../chat/moderation.ts';
import { moderateFeedItem } from '../feed/moderation.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { recordAudit, type AuditEntry } from './audit.ts';
import { announceRemoval, assertMayActOn, barFromCommunity, memberRole, type Removal } from './bans.ts';
import { assertActionable, lockCaseForModerator, publishCase, type LockedCase } from './cases.ts';
import { iso, loadCase } from './presenters.ts';

const MINUTE_MS = 60_000;

/**
 * `POST /moderation/cases/:id/claim`: the moderator takes the case, and the others see it taken at once. The case row
 * is locked, so of two moderators claiming together one wins and the other is told who. Claiming one's own claim
 * again changes nothing.
 */
export async function claimCase(deps: Deps, actor: Actor, caseId: string): Promise<CaseDto> {
  const changed = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const { kase } = await lockCaseForModerator(sql, actor, caseId);
    assertActionable(actor, kase);
    if (kase.status === 'claimed') return false;
    const at = deps.clock.now();
    await sql(`update moderation_cases set status = 'claimed', claimed_by_id = ?, claimed_at = ?, updated_at = ? where id = ?`, [
      actor.userId,
      at,
      at,
      caseId,
    ]);
    await recordAudit(
      sql,
      {
        ...auditTarget(kase),
        actorId: actor.userId,
        action: 'claim',
        before: { status: kase.status, claimedBy: null },
        after: { status: 'claimed', claimedBy: actor.userId },
      },
      at,
    );
    return true;
  });
  const kase = (await loadCase(sqlOf(deps.orm.em.fork()), caseId))!;
  if (changed) publishCase(deps, kase, false);
  return kase;
}

function auditTarget(kase: LockedCase): Pick<AuditEntry, 'communityId' | 'targetType' | 'targetId' | 'targetUserId' | 'caseId'> {
  return {
    communityId: kase.community_id,
    targetType: kase.target_type,
    targetId: kase.target_id,
    targetUserId: kase.target_user_id,
    caseId: kase.id,
  };
}

/** What an action changed, for the audit entry, and what to announce once it has committed. */
interface Effect {
  before: unknown;
  after: unknown;
  afterCommit: () => Promise<void> | void;
}

const nothingToAnnounce = () => {};

async function hideOrDelete(deps: Deps, sql: Sql, actor: Actor, kase: LockedCase, action: 'hide' | 'delete'): Promise<Effect> {
  const change = action === 'hide' ? { hide: true } : { delete: true };
  if (kase.target_type === 'message') {
    const moderated = await moderateMessage(deps, sql, kase.target_id, change, actor.userId);
    return { before: moderated.before, after: moderated.after, afterCommit: moderated.publish };
  }
  if (kase.target_type === 'post' || kase.target_type === 'comment') {
    const moderated = await moderateFeedItem(deps, sql, { type: kase.target_type, id: kase.target_id }, change, actor.userId);
    return { before: moderated.before, after: moderated.after, afterCommit: moderated.publish };
  }
  throw new AppError('invalid_input', `A reported person has no content to ${action}: warn, time out, kick or ban them instead.`);
}

/** The person an action reaches, checked against the rank rule. */
async function personOf(sql: Sql, actor: Actor, actorRole: Parameters<typeof assertMayActOn>[1], kase: LockedCase): Promise<string> {
  const userId = kase.target_user_id;
  if (!userId) throw new AppError('conflict', 'The account behind this case no longer exists.');
  assertMayActOn(actor, actorRole, userId, await memberRole(sql, kase.community_id, userId));
  return userId;
}

async function applyAction(
  deps: Deps,
  sql: Sql,
  actor: Actor,
  actorRole: Parameters<typeof assertMayActOn>[1],
  kase: LockedCase,
  input: CaseActionInput,
  at: Date,
): Promise<Effect> {
  const communityId = kase.community_id;
  switch (input.action) {
    case 'dismiss':
      return { before: { status: kase.status }, after: { status: 'dismissed' }, afterCommit: nothingToAnnounce };
    case 'hide':
    case 'delete':
      return hideOrDelete(deps, sql, actor, kase, input.action);
    case 'warn': {
      const userId = await personOf(sql, actor, actorRole, kase);
      return {
        before: null,
        after: { warned: true },
        afterCommit: () => deps.publisher.toRoom(rooms.user(userId), 'moderation:warned', { communityId, reason: input.reason }),
      };
    }
    case 'timeout': {
      const userId = await personOf(sql, actor, actorRole, kase);
      const until = new Date(at.getTime() + input.minutes! * MINUTE_MS);
      const [previous] = await sql<{ until: Date | string }>(
        'select until from community_timeouts where community_id = ? and user_id = ? and until > ?',
        [communityId, userId, at],
      );
      // A new timeout replaces the old one, shorter or longer: the moderator's latest decision stands.
      await sql(
        `insert into community_timeouts (community_id, user_id, until, reason, created_by_id, created_at) values (?, ?, ?, ?, ?, ?)
         on conflict (community_id, user_id) do update
           set until = excluded.until, reason = excluded.reason, created_by_id = excluded.created_by_id, created_at = excluded.created_at`,
        [communityId, userId, until, input.reason, actor.userId, at],
      );
      return {
        before: { timedOutUntil: previous ? iso(previous.until) : null },
        after: { timedOutUntil: until.toISOString(), minutes: input.minutes },
        afterCommit: () =>
          deps.publisher.toRoom(rooms.user(userId), 'moderation:timed_out', { communityId, until: until.toISOString(), reason: input.reason }),
      };
    }
    case 'kick':
    case 'ban': {
      const userId = await personOf(sql, actor, actorRole, kase);
      const rejoinAfter = input.action === 'kick' ? new Date(at.getTime() + (input.minutes ?? KICK_DEFAULT_REJOIN_MINUTES) * MINUTE_MS) : null;
      const removal: Removal = await barFromCommunity(sql, { communityId, userId, reason: input.reason, byId: actor.userId, rejoinAfter, at });
      return { before: removal.before, after: removal.after, afterCommit: () => announceRemoval(deps, removal) };
    }
  }
}

/**
 * `POST /moderation/cases/:id/actions`: acts on the case's target and closes the case, with its audit entry, in one
 * transaction; the effects reach clients (on every node) only after commit. A case claimed by another moderator is
 * theirs; a closed case takes no further action.
 */
export async function actOnCase(deps: Deps, actor: Actor, caseId: string, input: CaseActionInput): Promise<CaseDto> {
  const effect = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const { kase, actorRole } = await lockCaseForModerator(sql, actor, caseId);
    assertActionable(actor, kase);
    const at = deps.clock.now();
    const effect = await applyAction(deps, sql, actor, actorRole, kase, input, at);
    await closeCase(sql, caseId, input.action, actor.userId, input.reason, at);
    await recordAudit(
      sql,
      { ...auditTarget(kase), actorId: actor.userId, action: input.action, reason: input.reason, before: effect.before, after: effect.after },
      at,
    );
    return effect;
  });
  // The effect first: a ban's removal is what has to be fast, the console can hear of the closed case a moment later.
  await effect.afterCommit();
  const kase = (await loadCase(sqlOf(deps.orm.em.fork()), caseId))!;
  publishCase(deps, kase, false);
  return kase;
}

async function closeCase(sql: Sql, caseId: string, action: CaseAction, byId: string, reason: string, at: Date): Promise<void> {
  await sql(
    `update moderation_cases set status = ?, resolution_action = ?, resolved_by_id = ?, resolution_reason = ?, resolved_at = ?, updated_at = ?
     where id = ?`,
    [action === 'dismiss' ? 'dismissed' : 'resolved', action, byId, reason, at, at, caseId],
  );
}
