import { sql } from 'kysely';
import { z } from 'zod';
import type { AuditEntryDto } from '../../contracts/moderation.ts';
import { db } from '../../orm/db.ts';
import { pageOf, type Page } from '../communities/communities.ts';
import { decodeCursor } from '../communities/cursor.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { authorizeModeration } from './cases.ts';
import { presentAuditEntry, selectAuditEntries } from './presenters.ts';

/** The entry id: a bigserial, so newest first is id order and entries added meanwhile never shift later pages. */
const AuditCursor = z.tuple([z.string().regex(/^\d{1,19}$/)]);

/** `GET /communities/:id/audit-log`: for the community's admins and owners (and platform admins), newest first. */
export async function listAuditLog(
  deps: Deps,
  actor: Actor,
  communityId: string,
  query: { cursor?: string; limit: number },
): Promise<Page<AuditEntryDto>> {
  const q = db(deps.orm.em.fork());
  const after = decodeCursor(AuditCursor, query.cursor);
  await authorizeModeration(q, actor, communityId, 'administer');
  let entries = selectAuditEntries(q).where('a.community_id', '=', communityId);
  // Compared as bigint in SQL: the cursor carries the id as text, exact at any size.
  if (after) entries = entries.where('a.id', '<', sql<number>`${after[0]}::bigint`);
  const rows = await entries.orderBy('a.id', 'desc').limit(query.limit + 1).execute();
  return pageOf(rows, query.limit, (r) => [String(r.id)], presentAuditEntry);
}
