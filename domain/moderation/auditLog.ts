import { z } from 'zod';
import type { AuditEntryDto } from '../../contracts/moderation.ts';
import { pageOf, type Page } from '../communities/communities.ts';
import { decodeCursor } from '../communities/cursor.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { sqlOf } from '../shared/sql.ts';
import { authorizeModeration } from './cases.ts';
import { AUDIT_SELECT, presentAuditEntry, type AuditRow } from './presenters.ts';

/** The entry id: a bigserial, so newest first is id order and entries added meanwhile never shift later pages. */
const AuditCursor = z.tuple([z.string().regex(/^\d{1,19}$/)]);

/** `GET /communities/:id/audit-log`: for the community's admins and owners (and platform admins), newest first. */
export async function listAuditLog(
  deps: Deps,
  actor: Actor,
  communityId: string,
  query: { cursor?: string; limit: number },
): Promise<Page<AuditEntryDto>> {
  const sql = sqlOf(deps.orm.em.fork());
  const after = decodeCursor(AuditCursor, query.cursor);
  await authorizeModeration(sql, actor, communityId, 'administer');
  const rows = await sql<AuditRow>(
    `${AUDIT_SELECT} where a.community_id = ? ${after ? 'and a.id < ?::bigint' : ''} order by a.id desc limit ?`,
    after ? [communityId, after[0], query.limit + 1] : [communityId, query.limit + 1],
  );
  return pageOf(rows, query.limit, (r) => [String(r.id)], presentAuditEntry);
}
