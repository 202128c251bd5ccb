import type { CreateReportInput } from '../../contracts/moderation.ts';
import { authorizeChannel } from '../chat/access.ts';
import { loadFeedItemForCase } from '../feed/moderation.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { openOrMergeCase, publishCase, type CaseTarget } from './cases.ts';
import { iso, loadCase } from './presenters.ts';

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

/**
 * Where the target lives and who is behind it, checked as the reporter sees it: what they cannot read does not exist
 * for them (`not_found`), and content already hidden or deleted has nothing left to report.
 */
async function resolveTarget(deps: Deps, sql: Sql, actor: Actor, input: CreateReportInput): Promise<CaseTarget> {
  switch (input.targetType) {
    case 'message': {
      const [message] = await sql<{ channel_id: string; author_id: string; hidden: boolean; deleted: boolean }>(
        `select channel_id, author_id, hidden_at is not null as hidden, deleted_at is not null as deleted from messages where id = ?`,
        [input.targetId],
      );
      if (!message || message.hidden || message.deleted) throw new AppError('not_found', 'No such message.');
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
      const item = await loadFeedItemForCase(sql, input.targetType, input.targetId);
      const notFound = new AppError('not_found', `No such ${input.targetType}.`);
      if (!item || item.hidden || item.deleted) throw notFound;
      const [member] = await sql(
        `select 1 from community_members m join communities c on c.id = m.community_id and c.archived_at is null
         where m.community_id = ? and m.user_id = ?`,
        [item.communityId, actor.userId],
      );
      if (!member) throw notFound;
      return { communityId: item.communityId, type: input.targetType, id: input.targetId, userId: item.authorId };
    }
    case 'user': {
      const [row] = await sql<{ reporter: boolean; reported: boolean }>(
        `select exists (select 1 from community_members where community_id = c.id and user_id = ?) as reporter,
                exists (select 1 from community_members where community_id = c.id and user_id = ?) as reported
         from communities c where c.id = ? and c.archived_at is null`,
        [actor.userId, input.targetId, input.communityId],
      );
      if (!row?.reporter) throw new AppError('not_found', 'No such community.');
      if (input.targetId === actor.userId) throw new AppError('invalid_input', SELF_REPORT);
      if (!row.reported) throw new AppError('not_found', 'That person is not a member of this community.');
      return { communityId: input.communityId!, type: 'user', id: input.targetId, userId: input.targetId };
    }
  }
}

/**
 * A member reports a message, post, comment or person. Reports on the same target merge into its one active case
 * (counted once per reporter); a target whose earlier case was closed gets a new one. The community's moderators with
 * the console open hear of it after commit.
 */
export async function createReport(deps: Deps, actor: Actor, input: CreateReportInput): Promise<ReportOutcome> {
  const em = deps.orm.em.fork();
  const outcome = await em.transactional(async (tx) => {
    const sql = sqlOf(tx);
    const target = await resolveTarget(deps, sql, actor, input);
    if (target.userId === actor.userId) throw new AppError('invalid_input', SELF_REPORT);
    const now = deps.clock.now();
    const [already] = await sql<{ id: string }>(
      `select k.id from moderation_cases k join reports r on r.case_id = k.id and r.reporter_id = ?
       where k.community_id = ? and k.target_type = ? and k.target_id = ? and k.status in ('open', 'claimed')`,
      [actor.userId, target.communityId, target.type, target.id],
    );
    if (already) return { caseId: already.id, created: false, recorded: false, target };
    const opened = await openOrMergeCase(sql, target, now);
    // The unique (case, reporter) settles a reporter's two concurrent submissions: the second counts for nothing.
    const inserted = await sql(
      `insert into reports (id, case_id, reporter_id, reason, note, created_at) values (?, ?, ?, ?, ?, ?)
       on conflict (case_id, reporter_id) do nothing returning id`,
      [crypto.randomUUID(), opened.caseId, actor.userId, input.reason, input.note || null, now],
    );
    if (inserted.length) await sql('update moderation_cases set report_count = report_count + 1 where id = ?', [opened.caseId]);
    return { ...opened, recorded: inserted.length > 0, target };
  });
  const sql = sqlOf(deps.orm.em.fork());
  if (outcome.recorded) {
    const kase = await loadCase(sql, outcome.caseId);
    if (kase) publishCase(deps, kase, outcome.created);
  }
  const [report] = await sql<{ reason: ReportReceipt['reason']; note: string | null; created_at: Date | string }>(
    'select reason, note, created_at from reports where case_id = ? and reporter_id = ?',
    [outcome.caseId, actor.userId],
  );
  return {
    report: {
      targetType: outcome.target.type,
      targetId: outcome.target.id,
      communityId: outcome.target.communityId,
      reason: report!.reason,
      note: report!.note,
      createdAt: iso(report!.created_at),
    },
    recorded: outcome.recorded,
  };
}
