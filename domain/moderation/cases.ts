import type { CommunityRole } from '../../contracts/communities.ts';
import type { CaseDto, CaseStatus, ReportTargetType } from '../../contracts/moderation.ts';
import { rooms } from '../../contracts/realtime.ts';
import { loadCommunityAccess } from '../communities/membership.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { ModerationPolicy } from './policy.ts';
import { loadCase } from './presenters.ts';

/**
 * The caller's role in a community they want to moderate (or administer). Platform staff need no membership, so
 * private communities are looked up without the view rule; an outsider still learns nothing of a private one.
 */
export async function authorizeModeration(
  sql: Sql,
  actor: Actor,
  communityId: string,
  power: 'moderate' | 'administer' = 'moderate',
  options: { lock?: boolean } = {},
): Promise<CommunityRole | null> {
  const access = await loadCommunityAccess(sql, actor.userId, communityId, { requireView: false, lock: options.lock });
  if (ModerationPolicy[power](actor, access.role)) return access.role;
  if (access.visibility === 'private' && access.role === null) throw new AppError('not_found', 'No such community.');
  throw new AppError(
    'forbidden',
    power === 'moderate' ? "Only this community's moderators can do that." : "Only this community's admins and owners can do that.",
  );
}

export interface LockedCase {
  id: string;
  community_id: string;
  target_type: ReportTargetType;
  target_id: string;
  target_user_id: string | null;
  status: CaseStatus;
  claimed_by_id: string | null;
  claimed_by_name: string | null;
}

/**
 * Loads a case FOR UPDATE (claims and actions on one case run one at a time) and checks that the caller moderates its
 * community. Cases are not discoverable: someone who does not moderate the community gets `not_found`.
 */
export async function lockCaseForModerator(sql: Sql, actor: Actor, caseId: string): Promise<{ kase: LockedCase; actorRole: CommunityRole | null }> {
  const [kase] = await sql<LockedCase>(
    `select id, community_id, target_type, target_id, target_user_id, status, claimed_by_id, null as claimed_by_name
     from moderation_cases where id = ? for update`,
    [caseId],
  );
  const notFound = () => new AppError('not_found', 'No such case.');
  if (!kase) throw notFound();
  // Named only once the lock is held: a claim committed while we waited must be reported with its moderator's name.
  if (kase.claimed_by_id) {
    const [claimer] = await sql<{ display_name: string }>('select display_name from users where id = ?', [kase.claimed_by_id]);
    kase.claimed_by_name = claimer?.display_name ?? null;
  }
  const [member] = await sql<{ role: CommunityRole }>('select role from community_members where community_id = ? and user_id = ?', [
    kase.community_id,
    actor.userId,
  ]);
  const actorRole = member?.role ?? null;
  if (!ModerationPolicy.moderate(actor, actorRole)) throw notFound();
  return { kase, actorRole };
}

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
export async function openOrMergeCase(sql: Sql, target: CaseTarget, at: Date, automodWords: string[] = []): Promise<OpenedCase> {
  const [row] = await sql<{ id: string; created: boolean }>(
    `insert into moderation_cases (id, community_id, target_type, target_id, target_user_id, automod, automod_words, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?::text[], ?, ?)
     on conflict (community_id, target_type, target_id) where status in ('open', 'claimed') do update
       set updated_at = excluded.updated_at,
           automod = moderation_cases.automod or excluded.automod,
           automod_words = array(select distinct w from unnest(moderation_cases.automod_words || excluded.automod_words) w order by w)
     returning id, (xmax = 0) as created`,
    [crypto.randomUUID(), target.communityId, target.type, target.id, target.userId, automodWords.length > 0, automodWords, at, at],
  );
  return { caseId: row!.id, created: row!.created };
}

/** Tells the community's moderators with the console open; call after commit. */
export function publishCase(deps: Deps, kase: CaseDto, created: boolean): void {
  deps.publisher.toRoom(rooms.moderation(kase.communityId), created ? 'moderation:case_created' : 'moderation:case_updated', kase);
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
      const sql = sqlOf(tx);
      const opened = await openOrMergeCase(
        sql,
        { communityId: target.communityId, type: target.type, id: target.id, userId: target.authorId },
        deps.clock.now(),
        matched,
      );
      return { kase: await loadCase(sql, opened.caseId), created: opened.created };
    });
    if (kase) publishCase(deps, kase, created);
  } catch (err) {
    deps.logger.warn({ err: String(err), target }, 'moderation: opening an automod case failed');
  }
}

/** `moderation:subscribe`: joining a community's queue room is a moderation decision like any other. */
export async function authorizeQueueSubscription(deps: Deps, actor: Actor, communityId: string): Promise<void> {
  await authorizeModeration(sqlOf(deps.orm.em.fork()), actor, communityId);
}
