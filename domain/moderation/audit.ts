import type { AuditAction } from '../../contracts/moderation.ts';
import type { Sql } from '../shared/sql.ts';

export interface AuditEntry {
  /** Null for platform-wide actions (suspensions). */
  communityId: string | null;
  actorId: string;
  action: AuditAction;
  targetType?: string | null;
  targetId?: string | null;
  targetUserId?: string | null;
  caseId?: string | null;
  reason?: string;
  /** What the target looked like before and after (JSON). */
  before?: unknown;
  after?: unknown;
}

/**
 * Appends to the audit log in the caller's transaction, so an action and its entry commit together or not at all.
 * The table refuses updates and deletes (a trigger), so entries cannot be rewritten.
 */
export async function recordAudit(sql: Sql, entry: AuditEntry, at: Date): Promise<void> {
  await sql(
    `insert into moderation_audit (community_id, actor_id, action, target_type, target_id, target_user_id, case_id, reason, before, after, created_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?)`,
    [
      entry.communityId,
      entry.actorId,
      entry.action,
      entry.targetType ?? null,
      entry.targetId ?? null,
      entry.targetUserId ?? null,
      entry.caseId ?? null,
      entry.reason ?? '',
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
      at,
    ],
  );
}
