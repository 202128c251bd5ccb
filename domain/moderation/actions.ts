import type { CommunityRole } from '../../contracts/communities.ts';
import type { CaseAction, CaseActionInput, CaseDto } from '../../contracts/moderation.ts';
import { KICK_DEFAULT_REJOIN_MINUTES } from '../../contracts/moderation.ts';
import { db, type Db } from '../../orm/db.ts';
import { moderateMessage } from '../chat/moderation.ts';
import { moderateFeedItem } from '../feed/moderation.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { recordAudit, type AuditEntry } from './audit.ts';
import { announceRemoval, assertMayActOn, barFromCommunity, hideRecentMessagesOf, memberRole } from './bans.ts';
import { announceCase, assertActionable, lockCaseForModerator, type LockedCase } from './cases.ts';
import { loadCase } from './presenters.ts';

const MINUTE_MS = 60_000;

/**
 * `POST /moderation/cases/:id/claim`: the moderator takes the case, and the others see it taken at once. The case row
 * is locked, so of two moderators claiming together one wins and the other is told who. Claiming one's own claim
 * again changes nothing.
 */
export async function claimCase(deps: Deps, actor: Actor, caseId: string): Promise<CaseDto> {
  const changed = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { kase } = await lockCaseForModerator(q, actor, caseId);
    assertActionable(actor, kase);
    if (kase.status === 'claimed') return false;
    const at = deps.clock.now();
    await q
      .updateTable('moderation_cases')
      .set({ status: 'claimed', claimed_by_id: actor.userId, claimed_at: at, updated_at: at })
      .where('id', '=', caseId)
      .execute();
    await recordAudit(
      q,
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
  const kase = (await loadCase(db(deps.orm.em.fork()), caseId))!;
  if (changed) await announceCase(deps, kase, false);
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
  before: object | null;
  after: object | null;
  afterCommit: () => Promise<void> | void;
}

const nothingToAnnounce = () => {};

async function hideOrDelete(deps: Deps, q: Db, actor: Actor, kase: LockedCase, action: 'hide' | 'delete'): Promise<Effect> {
  const change = action === 'hide' ? { hide: true } : { delete: true };
  if (kase.target_type === 'message') {
    const moderated = await moderateMessage(deps, q, kase.target_id, change, actor.userId);
    return { before: moderated.before, after: moderated.after, afterCommit: moderated.publish };
  }
  if (kase.target_type === 'post' || kase.target_type === 'comment') {
    const moderated = await moderateFeedItem(deps, q, { type: kase.target_type, id: kase.target_id }, change, actor.userId);
    return { before: moderated.before, after: moderated.after, afterCommit: moderated.publish };
  }
  throw new AppError('invalid_input', `A reported person has no content to ${action}: warn, time out, kick or ban them instead.`);
}

/** The person an action reaches, checked against the rank rule. */
async function personOf(q: Db, actor: Actor, actorRole: CommunityRole | null, kase: LockedCase): Promise<string> {
  const userId = kase.target_user_id;
  if (!userId) throw new AppError('conflict', 'The account behind this case no longer exists.');
  assertMayActOn(actor, actorRole, userId, await memberRole(q, kase.community_id, userId));
  return userId;
}

async function applyAction(
  deps: Deps,
  q: Db,
  actor: Actor,
  actorRole: CommunityRole | null,
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
      return hideOrDelete(deps, q, actor, kase, input.action);
    case 'warn': {
      const userId = await personOf(q, actor, actorRole, kase);
      return {
        before: null,
        after: { warned: true },
        afterCommit: () => deps.events.emit('member.warned', { communityId, userId, reason: input.reason }),
      };
    }
    case 'timeout': {
      const userId = await personOf(q, actor, actorRole, kase);
      const until = new Date(at.getTime() + input.minutes! * MINUTE_MS);
      const previous = await q
        .selectFrom('community_timeouts')
        .select('until')
        .where('community_id', '=', communityId)
        .where('user_id', '=', userId)
        .where('until', '>', at)
        .executeTakeFirst();
      // A new timeout replaces the old one, shorter or longer: the moderator's latest decision stands.
      await q
        .insertInto('community_timeouts')
        .values({ community_id: communityId, user_id: userId, until, reason: input.reason, created_by_id: actor.userId, created_at: at })
        .onConflict((conflict) =>
          conflict.columns(['community_id', 'user_id']).doUpdateSet((eb) => ({
            until: eb.ref('excluded.until'),
            reason: eb.ref('excluded.reason'),
            created_by_id: eb.ref('excluded.created_by_id'),
            created_at: eb.ref('excluded.created_at'),
          })),
        )
        .execute();
      return {
        before: { timedOutUntil: previous?.until.toISOString() ?? null },
        after: { timedOutUntil: until.toISOString(), minutes: input.minutes },
        afterCommit: () =>
          deps.events.emit('member.timed_out', { communityId, userId, until: until.toISOString(), reason: input.reason }),
      };
    }
    case 'kick':
    case 'ban': {
      const userId = await personOf(q, actor, actorRole, kase);
      const rejoinAfter = input.action === 'kick' ? new Date(at.getTime() + (input.minutes ?? KICK_DEFAULT_REJOIN_MINUTES) * MINUTE_MS) : null;
      const removal = await barFromCommunity(q, { communityId, userId, reason: input.reason, byId: actor.userId, rejoinAfter, at });
      const hidden =
        input.action === 'ban' && input.hideRecentMessages
          ? await hideRecentMessagesOf(deps, q, { communityId, userId, moderatorId: actor.userId, at })
          : null;
      return {
        before: removal.before,
        after: hidden ? { ...removal.after, hiddenMessages: hidden.count } : removal.after,
        // The removal first (it is what has to be fast); then the hidden messages leave the readers' screens.
        afterCommit: async () => {
          await announceRemoval(deps, removal);
          await hidden?.publish();
        },
      };
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
    const q = db(tx);
    const { kase, actorRole } = await lockCaseForModerator(q, actor, caseId);
    assertActionable(actor, kase);
    const at = deps.clock.now();
    const effect = await applyAction(deps, q, actor, actorRole, kase, input, at);
    await closeCase(q, caseId, input.action, actor.userId, input.reason, at);
    await recordAudit(
      q,
      { ...auditTarget(kase), actorId: actor.userId, action: input.action, reason: input.reason, before: effect.before, after: effect.after },
      at,
    );
    return effect;
  });
  // The effect first: a ban's removal is what has to be fast, the console can hear of the closed case a moment later.
  await effect.afterCommit();
  const kase = (await loadCase(db(deps.orm.em.fork()), caseId))!;
  await announceCase(deps, kase, false);
  return kase;
}

async function closeCase(q: Db, caseId: string, action: CaseAction, byId: string, reason: string, at: Date): Promise<void> {
  await q
    .updateTable('moderation_cases')
    .set({
      status: action === 'dismiss' ? 'dismissed' : 'resolved',
      resolution_action: action,
      resolved_by_id: byId,
      resolution_reason: reason,
      resolved_at: at,
      updated_at: at,
    })
    .where('id', '=', caseId)
    .execute();
}
