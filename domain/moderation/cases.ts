import { sql } from 'kysely';
import type { CommunityRole } from '../../contracts/communities.ts';
import type { CaseDto, ReportTargetType } from '../../contracts/moderation.ts';
import { db, type Db } from '../../orm/db.ts';
import { loadCommunityAccess } from '../access/community.ts';
import { ModerationCasePolicy, selectCaseAccess, toCaseAccess } from '../access/moderationCase.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { ModerationPolicy } from '../access/moderation.ts';
import { loadCase } from './presenters.ts';

/**
 * The caller's role in a community they want to moderate (or administer). Platform staff need no membership, so
 * private communities are looked up without the view rule; an outsider still learns nothing of a private one.
 */
export async function authorizeModeration(
  q: Db,
  actor: Actor,
  communityId: string,
  power: 'moderate' | 'administer' = 'moderate',
  options: { lock?: boolean } = {},
): Promise<CommunityRole | null> {
  const access = await loadCommunityAccess(q, actor.userId, communityId, { requireView: false, lock: options.lock });
  if (ModerationPolicy[power](actor, access.role)) return access.role;
  if (access.visibility === 'private' && access.role === null) throw new AppError('not_found', 'No such community.');
  throw new AppError(
    'forbidden',
    power === 'moderate' ? "Only this community's moderators can do that." : "Only this community's admins and owners can do that.",
  );
}

/**
 * Loads a case FOR UPDATE (claims and actions on one case run one at a time) with the caller's role in its community,
 * in one statement, and checks that the caller sees it (ModerationCasePolicy): to anyone else it does not exist.
 */
export async function lockCaseForModerator(q: Db, actor: Actor, caseId: string) {
  const row = await selectCaseAccess(q, actor.userId)
    .select(['k.target_type', 'k.target_id', 'k.target_user_id', 'k.status', 'k.claimed_by_id'])
    .where('k.id', '=', caseId)
    .forUpdate('k')
    .executeTakeFirst();
  if (!row || !ModerationCasePolicy.see(actor, toCaseAccess(row))) throw new AppError('not_found', 'No such case.');
  // Named only once the lock is held: a claim committed while we waited must be reported with its moderator's name.
  const claimer = row.claimed_by_id
    ? await q.selectFrom('users').select('display_name').where('id', '=', row.claimed_by_id).executeTakeFirst()
    : undefined;
  return { kase: { ...row, claimed_by_name: claimer?.display_name ?? null }, actorRole: row.role };
}

export type LockedCase = Awaited<ReturnType<typeof lockCaseForModerator>>['kase'];

/** Closed cases stay closed; a case another moderator claimed is theirs to act on. */
export function assertActionable(actor: Actor, kase: LockedCase): void {
  if (kase.status === 'resolved' || kase.status === 'dismissed') throw new AppError('conflict', 'This case is already closed.');
  if (kase.status === 'claimed' && kase.claimed_by_id !== actor.userId) {
    throw new AppError('conflict', `${kase.claimed_by_name ?? 'Another moderator'} has claimed this case.`, {
      details: { claimedBy: kase.claimed_by_id ? { id: kase.claimed_by_id, displayName: kase.claimed_by_name ?? '' } : null },
    });
  }
}

export interface CaseTarget {
  communityId: string;
  type: ReportTargetType;
  id: string;
  /** The author of the content, or the reported person: whom an action on the case would reach. */
  userId: string | null;
}

export interface OpenedCase {
  caseId: string;
  /** False when the target already had an active case and this merged into it. */
  created: boolean;
}

/**
 * Opens the target's active case, or joins the one already open or claimed. The partial unique index on active cases
 * decides between concurrent openers, so two first reports at once still make one case. Runs in the caller's transaction.
 */
export async function openOrMergeCase(q: Db, target: CaseTarget, at: Date, automodWords: string[] = []): Promise<OpenedCase> {
  const row = await q
    .insertInto('moderation_cases')
    .values({
      id: crypto.randomUUID(),
      community_id: target.communityId,
      target_type: target.type,
      target_id: target.id,
      target_user_id: target.userId,
      automod: automodWords.length > 0,
      automod_words: automodWords,
      created_at: at,
      updated_at: at,
    })
    .onConflict((conflict) =>
      conflict
        .columns(['community_id', 'target_type', 'target_id'])
        // Literals, as in the index's own predicate: the planner matches the partial index by proving one implies the other.
        .where('status', 'in', [sql.lit<'open'>('open'), sql.lit<'claimed'>('claimed')])
        .doUpdateSet({
          updated_at: (eb) => eb.ref('excluded.updated_at'),
          automod: sql<boolean>`moderation_cases.automod or excluded.automod`,
          automod_words: sql<string[]>`array(select distinct w from unnest(moderation_cases.automod_words || excluded.automod_words) w order by w)`,
        }),
    )
    // xmax is 0 only on a row this statement inserted; an update of the active case sets it.
    .returning(['id', sql<boolean>`xmax = 0`.as('created')])
    .executeTakeFirstOrThrow();
  return { caseId: row.id, created: row.created };
}

/** Tells the community's moderators with the console open; call after commit. */
export async function announceCase(deps: Deps, kase: CaseDto, created: boolean): Promise<void> {
  await deps.events.emit(created ? 'moderation_case.created' : 'moderation_case.updated', { case: kase });
}

/**
 * The word filter in `flag` mode let a contribution through: put it in front of the community's moderators. Called by
 * the send/post paths after their own commit, so it must never fail them — problems are logged, not thrown.
 */
export async function openAutomodCase(
  deps: Deps,
  target: { communityId: string; type: 'message' | 'post' | 'comment'; id: string; authorId: string },
  words: string[],
): Promise<void> {
  try {
    const matched = [...new Set(words.map((w) => w.toLowerCase()))].sort();
    const { kase, created } = await deps.orm.em.fork().transactional(async (tx) => {
      const q = db(tx);
      const opened = await openOrMergeCase(
        q,
        { communityId: target.communityId, type: target.type, id: target.id, userId: target.authorId },
        deps.clock.now(),
        matched,
      );
      return { kase: await loadCase(q, opened.caseId), created: opened.created };
    });
    if (kase) await announceCase(deps, kase, created);
  } catch (err) {
    deps.logger.warn({ err: String(err), target }, 'moderation: opening an automod case failed');
  }
}

/** `moderation:subscribe`: joining a community's queue room is a moderation decision like any other. */
export async function authorizeQueueSubscription(deps: Deps, actor: Actor, communityId: string): Promise<void> {
  await authorizeModeration(db(deps.orm.em.fork()), actor, communityId);
}
