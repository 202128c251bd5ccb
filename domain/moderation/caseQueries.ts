import { sql } from 'kysely';
import { z } from 'zod';
import type { MessageDto } from '../../contracts/chat.ts';
import type { CaseDetailDto, CaseDto, CaseStatus } from '../../contracts/moderation.ts';
import { db, type Db } from '../../orm/db.ts';
import { loadCaseAccess, ModerationCasePolicy, visibleCaseIds } from '../access/moderationCase.ts';
import { loadMessages } from '../chat/presentMessages.ts';
import { pageOf, type Page } from '../communities/communities.ts';
import { decodeCursor } from '../communities/cursor.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { authorizeModeration } from './cases.ts';
import { presentAuditEntry, presentCase, selectAuditEntries, selectCases } from './presenters.ts';

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
  const q = db(deps.orm.em.fork());
  const after = decodeCursor(CaseCursor, query.cursor);
  await authorizeModeration(q, actor, communityId);
  let cases = selectCases(q)
    // The cursor keeps the microseconds a Date would drop, so the next page starts exactly after the last case.
    .select(sql<string>`to_char(k.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('updated_key'))
    .where('k.community_id', '=', communityId)
    .where('k.id', 'in', visibleCaseIds(q, actor));
  if (query.status) cases = cases.where('k.status', '=', query.status);
  if (after) cases = cases.where(sql<boolean>`(k.updated_at, k.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  const rows = await cases
    .orderBy('k.updated_at', 'desc')
    .orderBy('k.id', 'desc')
    .limit(query.limit + 1)
    .execute();
  return pageOf(rows, query.limit, (r) => [r.updated_key, r.id], presentCase);
}

/** The messages just before and after a reported one in its channel, hidden ones revealed (moderators are reading). */
async function surroundingMessages(q: Db, messageId: string): Promise<MessageDto[]> {
  // Each side is its own ordered, limited query; a union of derived tables keeps those apart.
  const rows = await q
    .with('target', (w) => w.selectFrom('messages').select(['channel_id', 'seq']).where('id', '=', messageId))
    .selectFrom((eb) =>
      eb
        .selectFrom(['messages as m', 'target as t'])
        .select(['m.id', 'm.seq'])
        .whereRef('m.channel_id', '=', 't.channel_id')
        .whereRef('m.seq', '<', 't.seq')
        .orderBy('m.seq', 'desc')
        .limit(SURROUNDING)
        .as('earlier'),
    )
    .select(['earlier.id', 'earlier.seq'])
    .unionAll((eb) =>
      eb
        .selectFrom((later) =>
          later
            .selectFrom(['messages as m', 'target as t'])
            .select(['m.id', 'm.seq'])
            .whereRef('m.channel_id', '=', 't.channel_id')
            .whereRef('m.seq', '>', 't.seq')
            .orderBy('m.seq')
            .limit(SURROUNDING)
            .as('later'),
        )
        .select(['later.id', 'later.seq']),
    )
    .orderBy('seq')
    .execute();
  const messages = await loadMessages(
    q,
    rows.map((r) => r.id),
    true,
  );
  return rows.map((r) => messages.get(r.id)).filter((m): m is MessageDto => m !== undefined);
}

type Contribution = CaseDetailDto['context']['authorHistory'][number];
const contributionType = (type: Contribution['type']) => sql.lit<Contribution['type']>(type).as('type');

/** The author's latest contributions in the community (deleted ones are gone; hidden ones are evidence). */
async function authorHistory(q: Db, communityId: string, authorId: string): Promise<Contribution[]> {
  const rows = await q
    .selectFrom((eb) =>
      eb
        .selectFrom('messages as m')
        .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
        .select([contributionType('message'), 'm.id', 'm.body', 'm.created_at'])
        .where('m.author_id', '=', authorId)
        .where('ch.community_id', '=', communityId)
        .where('m.deleted_at', 'is', null)
        .orderBy('m.created_at', 'desc')
        .limit(AUTHOR_HISTORY)
        .as('h'),
    )
    .selectAll('h')
    .unionAll((eb) =>
      eb
        .selectFrom((posts) =>
          posts
            .selectFrom('posts as p')
            .select([contributionType('post'), 'p.id', 'p.body', 'p.created_at'])
            .where('p.author_id', '=', authorId)
            .where('p.community_id', '=', communityId)
            .where('p.deleted_at', 'is', null)
            .orderBy('p.created_at', 'desc')
            .limit(AUTHOR_HISTORY)
            .as('h'),
        )
        .selectAll('h'),
    )
    .unionAll((eb) =>
      eb
        .selectFrom((comments) =>
          comments
            .selectFrom('comments as c')
            .select([contributionType('comment'), 'c.id', 'c.body', 'c.created_at'])
            .where('c.author_id', '=', authorId)
            .where('c.community_id', '=', communityId)
            .where('c.deleted_at', 'is', null)
            .orderBy('c.created_at', 'desc')
            .limit(AUTHOR_HISTORY)
            .as('h'),
        )
        .selectAll('h'),
    )
    .orderBy('created_at', 'desc')
    .limit(AUTHOR_HISTORY)
    .execute();
  return rows.map((r) => ({ type: r.type, id: r.id, body: r.body, createdAt: r.created_at.toISOString() }));
}

/** A case with what a moderator needs to decide: the reports, the conversation around it, the author's record. */
export async function getCaseDetail(deps: Deps, actor: Actor, caseId: string): Promise<CaseDetailDto> {
  const q = db(deps.orm.em.fork());
  const access = await loadCaseAccess(q, actor, caseId);
  // Cases are not discoverable by people who do not moderate the community; an archived community's queue is gone.
  if (!access || access.communityArchived || !ModerationCasePolicy.see(actor, access)) throw new AppError('not_found', 'No such case.');
  const row = await selectCases(q).where('k.id', '=', caseId).executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such case.');
  const kase = presentCase(row);
  const authorId = row.target_user_id;
  const [reports, surrounding, history, prior] = await Promise.all([
    q
      .selectFrom('reports as r')
      .innerJoin('users as u', 'u.id', 'r.reporter_id')
      // The entity stores the reason as text; only report reasons are ever written there (createReport).
      .select((eb) => ['r.reporter_id', 'u.display_name as reporter_name', eb.ref('r.reason').$castTo<CaseDetailDto['reports'][number]['reason']>().as('reason'), 'r.note', 'r.created_at'])
      .where('r.case_id', '=', caseId)
      .orderBy('r.created_at')
      .orderBy('r.id')
      .execute(),
    row.target_type === 'message' ? surroundingMessages(q, row.target_id) : Promise.resolve([]),
    authorId ? authorHistory(q, row.community_id, authorId) : Promise.resolve([]),
    authorId
      ? selectAuditEntries(q)
          .where('a.target_user_id', '=', authorId)
          .where('a.community_id', '=', row.community_id)
          .where('a.case_id', 'is distinct from', caseId)
          // Claims are bookkeeping between moderators, not actions against the author.
          .where('a.action', '<>', 'claim')
          .orderBy('a.id', 'desc')
          .limit(PRIOR_ACTIONS)
          .execute()
      : Promise.resolve([]),
  ]);
  return {
    ...kase,
    reports: reports.map((r) => ({
      reporter: { id: r.reporter_id, displayName: r.reporter_name },
      reason: r.reason,
      note: r.note,
      createdAt: r.created_at.toISOString(),
    })),
    context: { surrounding, authorHistory: history, priorActions: prior.map(presentAuditEntry) },
  };
}
