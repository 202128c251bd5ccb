import type { AuditAction, AuditEntryDto, CaseAction, CaseDto, CaseStatus, ReportTargetType } from '../../contracts/moderation.ts';
import type { Sql } from '../shared/sql.ts';

/** Raw queries may hand timestamps back as Date or as text. */
export const iso = (value: Date | string) => new Date(value).toISOString();
const isoOrNull = (value: Date | string | null) => (value === null ? null : iso(value));

export interface CaseRow {
  id: string;
  community_id: string;
  target_type: ReportTargetType;
  target_id: string;
  target_user_id: string | null;
  target_user_name: string | null;
  status: CaseStatus;
  report_count: number;
  automod: boolean;
  automod_words: string[];
  claimed_by_id: string | null;
  claimed_by_name: string | null;
  claimed_at: Date | string | null;
  resolution_action: CaseAction | null;
  resolved_by_id: string | null;
  resolved_by_name: string | null;
  resolution_reason: string | null;
  resolved_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
  target_body: string | null;
  target_channel_id: string | null;
  target_post_id: string | null;
  target_hidden: boolean;
  target_deleted: boolean;
  target_created_at: Date | string | null;
  reasons: Record<string, number> | null;
}

/**
 * A case with its target as moderators see it: the text even when hidden (deleted text is gone — the audit entry of the
 * deletion keeps the "before"), and the reasons tallied from its reports.
 */
export const CASE_SELECT = `
  select k.id, k.community_id, k.target_type, k.target_id, k.target_user_id, tu.display_name as target_user_name,
         k.status, k.report_count, k.automod, k.automod_words,
         k.claimed_by_id, cu.display_name as claimed_by_name, k.claimed_at,
         k.resolution_action, k.resolved_by_id, ru.display_name as resolved_by_name, k.resolution_reason, k.resolved_at,
         k.created_at, k.updated_at,
         coalesce(m.body, p.body, c.body) as target_body,
         m.channel_id as target_channel_id,
         coalesce(p.id, c.post_id) as target_post_id,
         coalesce(m.hidden_at, p.hidden_at, c.hidden_at) is not null as target_hidden,
         coalesce(m.deleted_at, p.deleted_at, c.deleted_at) is not null as target_deleted,
         coalesce(m.created_at, p.created_at, c.created_at) as target_created_at,
         (select jsonb_object_agg(r.reason, r.n) from (
            select reason, count(*)::int as n from reports where case_id = k.id group by reason) r) as reasons
  from moderation_cases k
  left join users tu on tu.id = k.target_user_id
  left join users cu on cu.id = k.claimed_by_id
  left join users ru on ru.id = k.resolved_by_id
  left join messages m on k.target_type = 'message' and m.id = k.target_id
  left join posts p on k.target_type = 'post' and p.id = k.target_id
  left join comments c on k.target_type = 'comment' and c.id = k.target_id`;

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
      createdAt: isoOrNull(row.target_created_at),
    },
    status: row.status,
    reportCount: row.report_count,
    reasons,
    claimedBy: row.claimed_by_id && row.claimed_by_name !== null ? { id: row.claimed_by_id, displayName: row.claimed_by_name } : null,
    claimedAt: isoOrNull(row.claimed_at),
    resolution:
      row.resolution_action && row.resolved_at && row.resolved_by_id
        ? {
            action: row.resolution_action,
            by: { id: row.resolved_by_id, displayName: row.resolved_by_name ?? '' },
            reason: row.resolution_reason ?? '',
            at: iso(row.resolved_at),
          }
        : null,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export async function loadCase(sql: Sql, caseId: string): Promise<CaseDto | undefined> {
  const [row] = await sql<CaseRow>(`${CASE_SELECT} where k.id = ?`, [caseId]);
  return row && presentCase(row);
}

export interface AuditRow {
  id: string | number;
  community_id: string | null;
  actor_id: string;
  actor_name: string | null;
  action: AuditAction;
  target_type: string | null;
  target_id: string | null;
  target_user_id: string | null;
  target_user_name: string | null;
  case_id: string | null;
  reason: string;
  before: unknown;
  after: unknown;
  created_at: Date | string;
}

/** Audit rows outlive the accounts they name (no foreign keys), so names may be missing. */
export const AUDIT_SELECT = `
  select a.id, a.community_id, a.actor_id, au.display_name as actor_name, a.action, a.target_type, a.target_id,
         a.target_user_id, tu.display_name as target_user_name, a.case_id, a.reason, a.before, a.after, a.created_at
  from moderation_audit a
  left join users au on au.id = a.actor_id
  left join users tu on tu.id = a.target_user_id`;

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
    createdAt: iso(row.created_at),
  };
}
