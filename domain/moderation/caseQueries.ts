import { z } from 'zod';
import type { MessageDto } from '../../contracts/chat.ts';
import type { CaseDetailDto, CaseDto, CaseStatus } from '../../contracts/moderation.ts';
import { loadMessages } from '../chat/presentMessages.ts';
import { pageOf, type Page } from '../communities/communities.ts';
import { decodeCursor } from '../communities/cursor.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError, isAppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { authorizeModeration } from './cases.ts';
import { AUDIT_SELECT, CASE_SELECT, iso, presentAuditEntry, presentCase, type AuditRow, type CaseRow } from './presenters.ts';

/** Messages shown on each side of a reported message. */
const SURROUNDING = 5;
const AUTHOR_HISTORY = 10;
const PRIOR_ACTIONS = 20;

/** updated_at (to the microsecond, UTC) then id. */
const CaseCursor = z.tuple([z.iso.datetime({ precision: 6 }), z.uuid()]);

/**
 * A community's queue, most recently active first. A case that changes while someone pages moves to the top, where
 * the console already hears of it through `moderation:case_updated`; later pages neither repeat nor skip the others.
 */
export async function listCases(
  deps: Deps,
  actor: Actor,
  communityId: string,
  query: { status?: CaseStatus; cursor?: string; limit: number },
): Promise<Page<CaseDto>> {
  const sql = sqlOf(deps.orm.em.fork());
  const after = decodeCursor(CaseCursor, query.cursor);
  await authorizeModeration(sql, actor, communityId);
  const conditions = ['k.community_id = ?'];
  const params: unknown[] = [communityId];
  if (query.status) {
    conditions.push('k.status = ?');
    params.push(query.status);
  }
  if (after) {
    conditions.push('(k.updated_at, k.id) < (?::timestamptz, ?::uuid)');
    params.push(...after);
  }
  params.push(query.limit + 1);
  const rows = await sql<CaseRow & { updated_key: string }>(
    `select * from (${CASE_SELECT}) k
       cross join lateral (select to_char(k.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as updated_key) key
     where ${conditions.join(' and ')}
     order by k.updated_at desc, k.id desc limit ?`,
    params,
  );
  return pageOf(rows, query.limit, (r) => [r.updated_key, r.id], presentCase);
}

interface HistoryRow {
  type: 'message' | 'post' | 'comment';
  id: string;
  body: string;
  created_at: Date | string;
}

/** The messages just before and after a reported one in its channel, hidden ones revealed (moderators are reading). */
async function surroundingMessages(sql: Sql, messageId: string): Promise<MessageDto[]> {
  const rows = await sql<{ id: string }>(
    `with target as (select channel_id, seq from messages where id = ?)
     (select m.id, m.seq from messages m, target t where m.channel_id = t.channel_id and m.seq < t.seq order by m.seq desc limit ?)
     union all
     (select m.id, m.seq from messages m, target t where m.channel_id = t.channel_id and m.seq > t.seq order by m.seq limit ?)
     order by seq`,
    [messageId, SURROUNDING, SURROUNDING],
  );
  const messages = await loadMessages(
    sql,
    rows.map((r) => r.id),
    true,
  );
  return rows.map((r) => messages.get(r.id)).filter((m): m is MessageDto => m !== undefined);
}

/** The author's latest contributions in the community (deleted ones are gone; hidden ones are evidence). */
async function authorHistory(sql: Sql, communityId: string, authorId: string): Promise<CaseDetailDto['context']['authorHistory']> {
  const rows = await sql<HistoryRow>(
    `(select 'message' as type, m.id, m.body, m.created_at from messages m join channels c on c.id = m.channel_id
       where m.author_id = ? and c.community_id = ? and m.deleted_at is null order by m.created_at desc limit ?)
     union all
     (select 'post', p.id, p.body, p.created_at from posts p
       where p.author_id = ? and p.community_id = ? and p.deleted_at is null order by p.created_at desc limit ?)
     union all
     (select 'comment', c.id, c.body, c.created_at from comments c
       where c.author_id = ? and c.community_id = ? and c.deleted_at is null order by c.created_at desc limit ?)
     order by created_at desc limit ?`,
    [authorId, communityId, AUTHOR_HISTORY, authorId, communityId, AUTHOR_HISTORY, authorId, communityId, AUTHOR_HISTORY, AUTHOR_HISTORY],
  );
  return rows.map((r) => ({ type: r.type, id: r.id, body: r.body, createdAt: iso(r.created_at) }));
}

/** A case with what a moderator needs to decide: the reports, the conversation around it, the author's record. */
export async function getCaseDetail(deps: Deps, actor: Actor, caseId: string): Promise<CaseDetailDto> {
  const sql = sqlOf(deps.orm.em.fork());
  const [row] = await sql<CaseRow>(`${CASE_SELECT} where k.id = ?`, [caseId]);
  if (!row) throw new AppError('not_found', 'No such case.');
  try {
    await authorizeModeration(sql, actor, row.community_id);
  } catch (err) {
    // Cases are not discoverable by people who do not moderate the community.
    if (isAppError(err)) throw new AppError('not_found', 'No such case.');
    throw err;
  }
  const kase = presentCase(row);
  const authorId = row.target_user_id;
  const [reports, surrounding, history, prior] = await Promise.all([
    sql<{ reporter_id: string; reporter_name: string; reason: CaseDetailDto['reports'][number]['reason']; note: string | null; created_at: Date | string }>(
      `select r.reporter_id, u.display_name as reporter_name, r.reason, r.note, r.created_at
       from reports r join users u on u.id = r.reporter_id where r.case_id = ? order by r.created_at, r.id`,
      [caseId],
    ),
    row.target_type === 'message' ? surroundingMessages(sql, row.target_id) : Promise.resolve([]),
    authorId ? authorHistory(sql, row.community_id, authorId) : Promise.resolve([]),
    authorId
      ? sql<AuditRow>(
          // Claims are bookkeeping between moderators, not actions against the author.
          `${AUDIT_SELECT} where a.target_user_id = ? and a.community_id = ? and a.case_id is distinct from ? and a.action <> 'claim'
           order by a.id desc limit ?`,
          [authorId, row.community_id, caseId, PRIOR_ACTIONS],
        )
      : Promise.resolve([]),
  ]);
  return {
    ...kase,
    reports: reports.map((r) => ({
      reporter: { id: r.reporter_id, displayName: r.reporter_name },
      reason: r.reason,
      note: r.note,
      createdAt: iso(r.created_at),
    })),
    context: { surrounding, authorHistory: history, priorActions: prior.map(presentAuditEntry) },
  };
}
