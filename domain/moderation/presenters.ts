import { sql, type InferResult } from 'kysely';
import type { AuditAction, AuditEntryDto, CaseAction, CaseDto } from '../../contracts/moderation.ts';
import type { Db } from '../../orm/db.ts';

/**
 * Cases with their target as moderators see it: the text even when hidden (deleted text is gone — the audit entry of
 * the deletion keeps the "before"), and the reasons tallied from its reports. Callers add the filter and the order.
 */
export function selectCases(q: Db) {
  return q
    .selectFrom('moderation_cases as k')
    .leftJoin('users as tu', 'tu.id', 'k.target_user_id')
    .leftJoin('users as cu', 'cu.id', 'k.claimed_by_id')
    .leftJoin('users as ru', 'ru.id', 'k.resolved_by_id')
    .leftJoin('messages as m', (join) => join.on('k.target_type', '=', 'message').onRef('m.id', '=', 'k.target_id'))
    .leftJoin('posts as p', (join) => join.on('k.target_type', '=', 'post').onRef('p.id', '=', 'k.target_id'))
    .leftJoin('comments as c', (join) => join.on('k.target_type', '=', 'comment').onRef('c.id', '=', 'k.target_id'))
    .select((eb) => [
      'k.id',
      'k.community_id',
      'k.target_type',
      'k.target_id',
      'k.target_user_id',
      'tu.display_name as target_user_name',
      'k.status',
      'k.report_count',
      'k.automod',
      'k.automod_words',
      'k.claimed_by_id',
      'cu.display_name as claimed_by_name',
      'k.claimed_at',
      // The entity stores the action as text; only case actions are ever written there (closeCase).
      eb.ref('k.resolution_action').$castTo<CaseAction | null>().as('resolution_action'),
      'k.resolved_by_id',
      'ru.display_name as resolved_by_name',
      'k.resolution_reason',
      'k.resolved_at',
      'k.created_at',
      'k.updated_at',
      eb.fn.coalesce('m.body', 'p.body', 'c.body').as('target_body'),
      'm.channel_id as target_channel_id',
      eb.fn.coalesce('p.id', 'c.post_id').as('target_post_id'),
      sql<boolean>`coalesce(m.hidden_at, p.hidden_at, c.hidden_at) is not null`.as('target_hidden'),
      sql<boolean>`coalesce(m.deleted_at, p.deleted_at, c.deleted_at) is not null`.as('target_deleted'),
      eb.fn.coalesce('m.created_at', 'p.created_at', 'c.created_at').as('target_created_at'),
      eb
        .selectFrom((tally) =>
          tally
            .selectFrom('reports as r')
            .select(['r.reason', sql<number>`count(*)::int`.as('n')])
            .whereRef('r.case_id', '=', 'k.id')
            .groupBy('r.reason')
            .as('t'),
        )
        .select(sql<Record<string, number> | null>`jsonb_object_agg(t.reason, t.n)`.as('reasons'))
        .as('reasons'),
    ]);
}

export type CaseRow = InferResult<ReturnType<typeof selectCases>>[number];

export function presentCase(row: CaseRow): CaseDto {
  const reasons: Record<string, number> = { ...(row.reasons ?? {}) };
  // The word filter is not a reporter: its matches show as one reason of their own, so the moderator sees why.
  if (row.automod) reasons[row.automod_words.length ? `automod: ${row.automod_words.join(', ')}` : 'automod'] = 1;
  const author = row.target_user_id && row.target_user_name !== null ? { id: row.target_user_id, displayName: row.target_user_name } : null;
  return {
    id: row.id,
    communityId: row.community_id,
    target: {
      type: row.target_type,
      id: row.target_id,
      author,
      body: row.target_body ?? '',
      channelId: row.target_channel_id,
      postId: row.target_post_id,
      hidden: row.target_hidden,
      deleted: row.target_deleted,
      createdAt: row.target_created_at?.toISOString() ?? null,
    },
    status: row.status,
    reportCount: row.report_count,
    reasons,
    claimedBy: row.claimed_by_id && row.claimed_by_name !== null ? { id: row.claimed_by_id, displayName: row.claimed_by_name } : null,
    claimedAt: row.claimed_at?.toISOString() ?? null,
    resolution:
      row.resolution_action && row.resolved_at && row.resolved_by_id
        ? {
            action: row.resolution_action,
            by: { id: row.resolved_by_id, displayName: row.resolved_by_name ?? '' },
            reason: row.resolution_reason ?? '',
            at: row.resolved_at.toISOString(),
          }
        : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function loadCase(q: Db, caseId: string): Promise<CaseDto | undefined> {
  const row = await selectCases(q).where('k.id', '=', caseId).executeTakeFirst();
  return row && presentCase(row);
}

/** Audit entries outlive the accounts they name (no foreign keys), so names may be missing. */
export function selectAuditEntries(q: Db) {
  return q
    .selectFrom('moderation_audit as a')
    .leftJoin('users as au', 'au.id', 'a.actor_id')
    .leftJoin('users as tu', 'tu.id', 'a.target_user_id')
    .select((eb) => [
      'a.id',
      'a.community_id',
      'a.actor_id',
      'au.display_name as actor_name',
      // The entity stores the action as text; only audit actions are ever written there (recordAudit).
      eb.ref('a.action').$castTo<AuditAction>().as('action'),
      'a.target_type',
      'a.target_id',
      'a.target_user_id',
      'tu.display_name as target_user_name',
      'a.case_id',
      'a.reason',
      'a.before',
      'a.after',
      'a.created_at',
    ]);
}

export type AuditRow = InferResult<ReturnType<typeof selectAuditEntries>>[number];

export function presentAuditEntry(row: AuditRow): AuditEntryDto {
  return {
    id: String(row.id),
    communityId: row.community_id,
    actor: { id: row.actor_id, displayName: row.actor_name ?? 'Deleted account' },
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    targetUser: row.target_user_id ? { id: row.target_user_id, displayName: row.target_user_name ?? 'Deleted account' } : null,
    caseId: row.case_id,
    reason: row.reason,
    before: row.before ?? null,
    after: row.after ?? null,
    createdAt: row.created_at.toISOString(),
  };
}
