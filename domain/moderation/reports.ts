import type { CreateReportInput } from '../../contracts/moderation.ts';
import { db, type Db } from '../../orm/db.ts';
import { loadStanding, loadStandings, standingKey, type CommunityStanding } from '../access/membership.ts';
import { authorizeChannel } from '../access/channel.ts';
import { loadFeedItemForCase } from '../feed/moderation.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { announceCase, openOrMergeCase, type CaseTarget } from './cases.ts';
import { loadCase } from './presenters.ts';

/** What the reporter gets back: their report, not the case (that is for moderators). */
export interface ReportReceipt {
  targetType: CreateReportInput['targetType'];
  targetId: string;
  communityId: string;
  reason: CreateReportInput['reason'];
  note: string | null;
  createdAt: string;
}

export interface ReportOutcome {
  report: ReportReceipt;
  /** False when this reporter had already reported the target's active case: nothing was counted again. */
  recorded: boolean;
}

const SELF_REPORT = 'You cannot report yourself or your own content.';

/** Reports come from members, about members, of communities that are still there. */
const isMemberOfLive = (standing: CommunityStanding | null | undefined) => !!standing && !standing.archived && standing.role !== null;

/**
 * Where the target lives and who is behind it, checked as the reporter sees it: what they cannot read does not exist
 * for them (`not_found`), and content already hidden or deleted has nothing left to report.
 */
async function resolveTarget(deps: Deps, q: Db, actor: Actor, input: CreateReportInput): Promise<CaseTarget> {
  switch (input.targetType) {
    case 'message': {
      const message = await q
        .selectFrom('messages')
        .select(['channel_id', 'author_id', 'hidden_at', 'deleted_at'])
        .where('id', '=', input.targetId)
        .executeTakeFirst();
      if (!message || message.hidden_at || message.deleted_at) throw new AppError('not_found', 'No such message.');
      const access = await authorizeChannel(deps.orm.em.fork(), actor, message.channel_id, 'read').catch(() => {
        throw new AppError('not_found', 'No such message.');
      });
      if (access.communityId === null) {
        throw new AppError('invalid_input', 'Direct messages belong to no community; block the person instead.');
      }
      return { communityId: access.communityId, type: 'message', id: input.targetId, userId: message.author_id };
    }
    case 'post':
    case 'comment': {
      const item = await loadFeedItemForCase(q, input.targetType, input.targetId);
      const notFound = new AppError('not_found', `No such ${input.targetType}.`);
      if (!item || item.hidden || item.deleted) throw notFound;
      const reporter = await loadStanding(q, actor.userId, item.communityId);
      if (!isMemberOfLive(reporter)) throw notFound;
      return { communityId: item.communityId, type: input.targetType, id: input.targetId, userId: item.authorId };
    }
    case 'user': {
      const communityId = input.communityId!;
      const standings = await loadStandings(q, [
        { userId: actor.userId, communityId },
        { userId: input.targetId, communityId },
      ]);
      if (!isMemberOfLive(standings.get(standingKey(actor.userId, communityId)))) throw new AppError('not_found', 'No such community.');
      if (input.targetId === actor.userId) throw new AppError('invalid_input', SELF_REPORT);
      if (!isMemberOfLive(standings.get(standingKey(input.targetId, communityId)))) {
        throw new AppError('not_found', 'That person is not a member of this community.');
      }
      return { communityId, type: 'user', id: input.targetId, userId: input.targetId };
    }
  }
}

/**
 * A member reports a message, post, comment or person. Reports on the same target merge into its one active case
 * (counted once per reporter); a target whose earlier case was closed gets a new one. The community's moderators with
 * the console open hear of it after commit.
 */
export async function createReport(deps: Deps, actor: Actor, input: CreateReportInput): Promise<ReportOutcome> {
  // Spent before any lookup: a script filing reports costs one counter, not the moderators' queue.
  await deps.actionLimits.reports.consume(actor.userId, 1, 'You have sent many reports in the last hour; the moderators have them. Try again later.');
  const em = deps.orm.em.fork();
  const outcome = await em.transactional(async (tx) => {
    const q = db(tx);
    const target = await resolveTarget(deps, q, actor, input);
    if (target.userId === actor.userId) throw new AppError('invalid_input', SELF_REPORT);
    const now = deps.clock.now();
    const already = await q
      .selectFrom('moderation_cases as k')
      .innerJoin('reports as r', (join) => join.onRef('r.case_id', '=', 'k.id').on('r.reporter_id', '=', actor.userId))
      .select('k.id')
      .where('k.community_id', '=', target.communityId)
      .where('k.target_type', '=', target.type)
      .where('k.target_id', '=', target.id)
      .where('k.status', 'in', ['open', 'claimed'])
      .executeTakeFirst();
    if (already) return { caseId: already.id, created: false, recorded: false, target };
    const opened = await openOrMergeCase(q, target, now);
    // The unique (case, reporter) settles a reporter's two concurrent submissions: the second counts for nothing.
    const inserted = await q
      .insertInto('reports')
      .values({ id: crypto.randomUUID(), case_id: opened.caseId, reporter_id: actor.userId, reason: input.reason, note: input.note || null, created_at: now })
      .onConflict((conflict) => conflict.columns(['case_id', 'reporter_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) {
      await q
        .updateTable('moderation_cases')
        .set((eb) => ({ report_count: eb('report_count', '+', 1) }))
        .where('id', '=', opened.caseId)
        .execute();
    }
    return { ...opened, recorded: inserted !== undefined, target };
  });
  const q = db(deps.orm.em.fork());
  if (outcome.recorded) {
    const kase = await loadCase(q, outcome.caseId);
    if (kase) await announceCase(deps, kase, outcome.created);
  }
  const report = await q
    .selectFrom('reports')
    // The entity stores the reason as text; only report reasons are ever written there (above).
    .select((eb) => [eb.ref('reason').$castTo<ReportReceipt['reason']>().as('reason'), 'note', 'created_at'])
    .where('case_id', '=', outcome.caseId)
    .where('reporter_id', '=', actor.userId)
    .executeTakeFirstOrThrow();
  return {
    report: {
      targetType: outcome.target.type,
      targetId: outcome.target.id,
      communityId: outcome.target.communityId,
      reason: report.reason,
      note: report.note,
      createdAt: report.created_at.toISOString(),
    },
    recorded: outcome.recorded,
  };
}
