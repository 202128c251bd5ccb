import { randomUUID } from 'node:crypto';
import type { PollDto, PollResultsDto } from '../../contracts/classrooms.ts';
import { rooms } from '../../contracts/realtime.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { authorizeRoomAction, roomAction } from './actions.ts';
import type { Done } from './stage.ts';
import { changeRoom, loadPollResults, loadPolls, pollIsOpen } from './state.ts';

export interface CreatePoll {
  classroomId: string;
  question: string;
  options: string[];
  multiple: boolean;
  correctOptions?: number[] | undefined;
  timeLimitSeconds?: number | undefined;
}

export interface AnswerPoll {
  classroomId: string;
  pollId: string;
  options: number[];
}

export type PollResultsEvent = { classroomId: string; pollId: string; resultsVersion: number } & PollResultsDto;

/** `poll:create` (host, co-hosts): a poll, or a quiz when it has correct options; a time limit sets when it closes. */
export async function createPoll(deps: Deps, actor: Actor, input: CreatePoll): Promise<Done & { poll: PollDto }> {
  const { classroomId, version, result } = await roomAction(deps, actor, input.classroomId, 'staff', async ({ sql, now }) => {
    const id = randomUUID();
    const closesAt = input.timeLimitSeconds ? new Date(now.getTime() + input.timeLimitSeconds * 1000) : null;
    const correct = input.correctOptions ? [...new Set(input.correctOptions)].sort((a, b) => a - b) : null;
    await sql(
      `insert into classroom_polls (id, classroom_id, created_by_id, question, options, multiple, correct_options,
                                    time_limit_seconds, closes_at, created_at)
       values (?, ?, ?, ?, ?::jsonb, ?, ?::int[], ?, ?, ?)`,
      [id, input.classroomId, actor.userId, input.question, JSON.stringify(input.options), input.multiple, correct,
        input.timeLimitSeconds ?? null, closesAt, now],
    );
    const [poll] = await loadPolls(sql, input.classroomId, now, [id]);
    return { patch: { polls: [poll!] }, result: poll! };
  });
  return { classroomId, version, poll: result };
}

interface PollRow {
  id: string;
  options: string[];
  multiple: boolean;
  closes_at: Date | string | null;
  closed_at: Date | string | null;
  revealed_at: Date | string | null;
}

async function pollOf(sql: Sql, classroomId: string, pollId: string, lock = false): Promise<PollRow> {
  const [poll] = await sql<PollRow>(
    `select id, options, multiple, closes_at, closed_at, revealed_at from classroom_polls where id = ? and classroom_id = ?${lock ? ' for update' : ''}`,
    [pollId, classroomId],
  );
  if (!poll) throw new AppError('not_found', 'No such poll in this class.');
  return poll;
}

function validChoice(poll: PollRow, options: number[]): number[] {
  const chosen = [...new Set(options)].sort((a, b) => a - b);
  if (chosen.length !== options.length) throw new AppError('invalid_input', 'Choose each option at most once.');
  if (chosen.some((i) => i >= poll.options.length)) throw new AppError('invalid_input', 'That option is not in this poll.');
  if (!poll.multiple && chosen.length !== 1) throw new AppError('invalid_input', 'Choose exactly one option.');
  return chosen;
}

/**
 * `poll:answer` (once) and `poll:change` (only after answering): an admitted learner, while the poll is open. Not a
 * room change — answers stay private until revealed — so they serialize on the poll row instead: the answer and the
 * next results version commit together, and the host and co-hosts get the live results (`poll:results`).
 */
export async function answerPoll(deps: Deps, actor: Actor, input: AnswerPoll, mode: 'answer' | 'change'): Promise<{ pollId: string; options: number[] }> {
  const now = deps.clock.now();
  const results = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    await authorizeRoomAction(sql, actor, input.classroomId, 'learner', 'The host and co-hosts do not answer polls.');
    const poll = await pollOf(sql, input.classroomId, input.pollId, true);
    if (!pollIsOpen(poll, now)) throw new AppError('conflict', 'This poll is closed.');
    const options = validChoice(poll, input.options);
    if (mode === 'answer') {
      const inserted = await sql(
        `insert into classroom_poll_answers (poll_id, user_id, options, answered_at) values (?, ?, ?::int[], ?)
         on conflict (poll_id, user_id) do nothing returning poll_id`,
        [poll.id, actor.userId, options, now],
      );
      if (!inserted.length) throw new AppError('conflict', 'You already answered — change it instead.');
    } else {
      const changed = await sql<{ same: boolean }>(
        `update classroom_poll_answers a set options = ?::int[], changed_at = ?
         from classroom_poll_answers was
         where a.poll_id = ? and a.user_id = ? and was.poll_id = a.poll_id and was.user_id = a.user_id
         returning was.options = a.options as same`,
        [options, now, poll.id, actor.userId],
      );
      if (!changed.length) throw new AppError('conflict', 'Answer the poll first.');
      if (changed[0]!.same) return { options, event: null };
    }
    await sql('update classroom_polls set results_version = results_version + 1 where id = ?', [poll.id]);
    const current = (await loadPollResults(sql, [poll.id])).get(poll.id)!;
    const event: PollResultsEvent = { classroomId: input.classroomId, pollId: poll.id, ...current };
    return { options, event };
  });
  if (results.event) deps.publisher.toRoom(rooms.classroomStaff(input.classroomId), 'poll:results', results.event);
  return { pollId: input.pollId, options: results.options };
}

/** `poll:close`: no more answers; the results stay with the host until revealed. */
export async function closePoll(deps: Deps, actor: Actor, input: { classroomId: string; pollId: string }): Promise<Done> {
  const { classroomId, version } = await roomAction(deps, actor, input.classroomId, 'staff', async ({ sql, now }) => {
    const poll = await pollOf(sql, input.classroomId, input.pollId);
    if (poll.closed_at !== null) return { patch: null, result: null };
    await sql('update classroom_polls set closed_at = least(coalesce(closes_at, ?::timestamptz), ?::timestamptz) where id = ?', [now, now, poll.id]);
    return { patch: { polls: await loadPolls(sql, input.classroomId, now, [poll.id]) }, result: null };
  });
  return { classroomId, version };
}

/** `poll:reveal`: everyone sees the results (and a quiz's correct options). Revealing an open poll closes it first. */
export async function revealPoll(deps: Deps, actor: Actor, input: { classroomId: string; pollId: string }): Promise<Done> {
  const { classroomId, version } = await roomAction(deps, actor, input.classroomId, 'staff', async ({ sql, now }) => {
    const poll = await pollOf(sql, input.classroomId, input.pollId);
    if (poll.revealed_at !== null) return { patch: null, result: null };
    await sql(
      `update classroom_polls set revealed_at = ?, closed_at = coalesce(closed_at, least(coalesce(closes_at, ?::timestamptz), ?::timestamptz))
       where id = ?`,
      [now, now, now, poll.id],
    );
    return { patch: { polls: await loadPolls(sql, input.classroomId, now, [poll.id]) }, result: null };
  });
  return { classroomId, version };
}

/**
 * A time-limited poll reached its end: recorded as closed and announced (its creator's node does this on time; the
 * periodic sweep catches those whose node went away). Answers after the end are refused by the clock regardless.
 */
export async function closeExpiredPoll(deps: Deps, classroomId: string, pollId: string): Promise<void> {
  const now = deps.clock.now();
  await changeRoom(deps, classroomId, async (_tx, { sql }) => {
    const closed = await sql(
      `update classroom_polls set closed_at = least(closes_at, ?::timestamptz)
       where id = ? and classroom_id = ? and closed_at is null and closes_at is not null returning id`,
      [now, pollId, classroomId],
    );
    return { patch: closed.length ? { polls: await loadPolls(sql, classroomId, now, [pollId]) } : null, result: null };
  });
}

/** Time-limited polls past their end that nobody has recorded as closed. */
export async function closeOverduePolls(deps: Deps): Promise<number> {
  const overdue = await sqlOf(deps.orm.em.fork())<{ id: string; classroom_id: string }>(
    'select id, classroom_id from classroom_polls where closed_at is null and closes_at <= ? limit 100',
    [deps.clock.now()],
  );
  for (const poll of overdue) await closeExpiredPoll(deps, poll.classroom_id, poll.id);
  return overdue.length;
}

/** Every poll's live results in a room, for a host or co-host coming in (later answers arrive as `poll:results`). */
export async function staffPollResults(deps: Deps, classroomId: string): Promise<PollResultsEvent[]> {
  const sql = sqlOf(deps.orm.em.fork());
  const polls = await sql<{ id: string }>('select id from classroom_polls where classroom_id = ? order by created_at, id', [classroomId]);
  const results = await loadPollResults(sql, polls.map((p) => p.id));
  return polls.map((p) => ({ classroomId, pollId: p.id, ...results.get(p.id)! }));
}
