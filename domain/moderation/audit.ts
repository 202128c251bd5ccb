import type { Insertable } from 'kysely';
import type { AuditAction } from '../../contracts/moderation.ts';
import { jsonb, type DB } from '../../orm/db.ts';
import { queriesOf, type Queries } from '../access/queries.ts';

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
  /** What the target looked like before and after (JSON objects). */
  before?: object | null;
  after?: object | null;
}

/**
 * Appends to the audit log in the caller's transaction (`q` bound to it, or its EntityManager), so an action and its
 * entry commit together or not at all. The table refuses updates and deletes (a trigger), so entries cannot be
 * rewritten.
 */
export async function recordAudit(source: Queries, entry: AuditEntry, at: Date): Promise<void> {
  await queriesOf(source)
    .insertInto('moderation_audit')
    .values({
      community_id: entry.communityId,
      actor_id: entry.actorId,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      target_user_id: entry.targetUserId ?? null,
      case_id: entry.caseId ?? null,
      reason: entry.reason ?? '',
      before: entry.before ? jsonb(entry.before as Record<string, unknown>) : null,
      after: entry.after ? jsonb(entry.after as Record<string, unknown>) : null,
      created_at: at,
      // The id is the table's bigserial, which the entity does not mark as generated: the insert leaves it out.
    } as Insertable<DB['moderation_audit']>)
    .execute();
}
