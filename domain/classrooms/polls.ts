import { randomUUID } from 'node:crypto';
import type { PollDto } from '../../contracts/classrooms.ts';
import { db, jsonb, type Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { authorizeRoomAction, roomAction } from './actions.ts';
import type { PollResultsEvent } from './events.ts';
import type { Done } from './stage.ts';
import { changeRoom, loadPollResults, loadPolls, pollIsOpen } from './state.ts';

export type { PollResultsEvent } from './events.ts';

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

/** `poll:create` (host, co-hosts): a poll, or a quiz when it has correct options; a time limit sets when it closes. */
export async function createPoll(deps: Deps, actor: Actor, input: CreatePoll): Promise<Done & { poll: PollDto }> {
  const { classroomId, version, result } = await roomAction(deps, actor, input.classroomId, 'staff', async ({ q, now }) => {
    const id = randomUUID();
    const closesAt = input.timeLimitSeconds ? new Date(now.getTime() + input.timeLimitSeconds * 1000) : null;
    const correct = input.correctOptions ? [...new Set(input.correctOptions)].sort((a, b) => a - b) : null;
    await q
      .insertInto('classroom_polls')
      .values({
        id,
        classroom_id: input.classroomId,
        created_by_id: actor.userId,
        question: input.question,
        options: jsonb(input.options),
        multiple: input.multiple,
        correct_options: correct,
        time_limit_seconds: input.timeLimitSeconds ?? null,
        closes_at: closesAt,
        created_at: now,
      })
      .execute();
    const [poll] = await loadPolls(q, input.classroomId, now, [id]);
    return { patch: { polls: [poll!] }, result: poll! };
  });
  return { classroomId, version, poll: result };
}

async function pollOf(q: Db, classroomId: string, pollId: string, lock = false) {
  let query = q
    .selectFrom('classroom_polls')
    .select(['id', 'options', 'multiple', 'closes_at', 'closed_at', 'revealed_at'])
    .where('id', '=', pollId)
    .where('classroom_id', '=', classroomId);
  if (lock) query = query.forUpdate();
  const poll = await query.executeTakeFirst();
  if (!poll) throw new AppError('not_found', 'No such poll in this class.');
  return poll;
}

function validChoice(poll: Awaited<ReturnType<typeof pollOf>>, options: number[]): number[] {
  const chosen = [...new Set(options)].sort((a, b) => a - b);
  if (chosen.length !== options.length) throw new AppError('invalid_input', 'Choose each option at most once.');
  if (chosen.some((i) => i >= poll.options.length)) throw new AppError('invalid_input', 'That option is not in this poll.');
  if (!poll.multiple && chosen.length !== 1) throw new AppError('invalid_input', 'Choose exactly one option.');
  return chosen;
}

/**
 * `poll:answer` (once) and `poll:change` (only after answering): an admitted learner, while the poll is open. Not a
 * room change — answers stay private until revealed — so they serialize on the poll row instead: the answer and the
 * next results version commit together, and the host and co-hosts get the live results (`poll.results_changed`).
 */
export async function answerPoll(deps: Deps, actor: Actor, input: AnswerPoll, mode: 'answer' | 'change'): Promise<{ pollId: string; options: number[] }> {
  const now = deps.clock.now();
  const answered = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    await authorizeRoomAction(q, actor, input.classroomId, 'learner', 'The host and co-hosts do not answer polls.');
    const poll = await pollOf(q, input.classroomId, input.pollId, true);
    if (!pollIsOpen(poll, now)) throw new AppError('conflict', 'This poll is closed.');
    const options = validChoice(poll, input.options);
    if (mode === 'answer') {
      const inserted = await q
        .insertInto('classroom_poll_answers')
        .values({ poll_id: poll.id, user_id: actor.userId, options, answered_at: now })
        .onConflict((oc) => oc.columns(['poll_id', 'user_id']).doNothing())
        .returning('poll_id')
        .execute();
      if (!inserted.length) throw new AppError('conflict', 'You already answered — change it instead.');
    } else {
      // `was` is the answer before the change: changing to the same options moves no results.
      const [changed] = await q
        .updateTable('classroom_poll_answers as a')
        .from('classroom_poll_answers as was')
        .set({ options, changed_at: now })
        .where('a.poll_id', '=', poll.id)
        .where('a.user_id', '=', actor.userId)
        .whereRef('was.poll_id', '=', 'a.poll_id')
        .whereRef('was.user_id', '=', 'a.user_id')
        .returning((eb) => eb('was.options', '=', eb.ref('a.options')).$castTo<boolean>().as('same'))
        .execute();
      if (!changed) throw new AppError('conflict', 'Answer the poll first.');
      if (changed.same) return { options, results: null };
    }
    await q
      .updateTable('classroom_polls')
      .set((eb) => ({ results_version: eb('results_version', '+', 1) }))
      .where('id', '=', poll.id)
      .execute();
    const current = (await loadPollResults(q, [poll.id])).get(poll.id)!;
    const results: PollResultsEvent = { classroomId: input.classroomId, pollId: poll.id, ...current };
    return { options, results };
  });
  if (answered.results) await deps.events.emit('poll.results_changed', { results: answered.results });
  return { pollId: input.pollId, options: answered.options };
}

/** `poll:close`: no more answers; the results stay with the host until revealed. */
export async function closePoll(deps: Deps, actor: Actor, input: { classroomId: string; pollId: string }): Promise<Done> {
  const { classroomId, version } = await roomAction(deps, actor, input.classroomId, 'staff', async ({ q, now }) => {
    const poll = await pollOf(q, input.classroomId, input.pollId);
    if (poll.closed_at !== null) return { patch: null, result: null };
    await q
      .updateTable('classroom_polls')
      .set((eb) => ({ closed_at: eb.fn<Date>('least', [eb.fn.coalesce('closes_at', eb.val(now)), eb.val(now)]) }))
      .where('id', '=', poll.id)
      .execute();
    return { patch: { polls: await loadPolls(q, input.classroomId, now, [poll.id]) }, result: null };
  });
  return { classroomId, version };
}

/** `poll:reveal`: everyone sees the results (and a quiz's correct options). Revealing an open poll closes it first. */
export async function revealPoll(deps: Deps, actor: Actor, input: { classroomId: string; pollId: string }): Promise<Done> {
  const { classroomId, version } = await roomAction(deps, actor, input.classroomId, 'staff', async ({ q, now }) => {
    const poll = await pollOf(q, input.classroomId, input.pollId);
    if (poll.revealed_at !== null) return { patch: null, result: null };
    await q
      .updateTable('classroom_polls')
      .set((eb) => ({
        revealed_at: now,
        closed_at: eb.fn.coalesce('closed_at', eb.fn<Date>('least', [eb.fn.coalesce('closes_at', eb.val(now)), eb.val(now)])),
      }))
      .where('id', '=', poll.id)
      .execute();
    return { patch: { polls: await loadPolls(q, input.classroomId, now, [poll.id]) }, result: null };
  });
  return { classroomId, version };
}

/**
 * A time-limited poll reached its end: recorded as closed and announced (its creator's node does this on time; the
 * periodic sweep catches those whose node went away). Answers after the end are refused by the clock regardless.
 */
export async function closeExpiredPoll(deps: Deps, classroomId: string, pollId: string): Promise<void> {
  const now = deps.clock.now();
  await changeRoom(deps, classroomId, async ({ q }) => {
    const closed = await q
      .updateTable('classroom_polls')
      .set((eb) => ({ closed_at: eb.fn<Date>('least', ['closes_at', eb.val(now)]) }))
      .where('id', '=', pollId)
      .where('classroom_id', '=', classroomId)
      .where('closed_at', 'is', null)
      .where('closes_at', 'is not', null)
      .returning('id')
      .execute();
    return { patch: closed.length ? { polls: await loadPolls(q, classroomId, now, [pollId]) } : null, result: null };
  });
}

/** Time-limited polls past their end that nobody has recorded as closed. */
export async function closeOverduePolls(deps: Deps): Promise<number> {
  const overdue = await db(deps.orm.em.fork())
    .selectFrom('classroom_polls')
    .select(['id', 'classroom_id'])
    .where('closed_at', 'is', null)
    .where('closes_at', '<=', deps.clock.now())
    .limit(100)
    .execute();
  for (const poll of overdue) await closeExpiredPoll(deps, poll.classroom_id, poll.id);
  return overdue.length;
}

/** Every poll's live results in a room, for a host or co-host coming in (later answers arrive as `poll:results`). */
export async function staffPollResults(deps: Deps, classroomId: string): Promise<PollResultsEvent[]> {
  const q = db(deps.orm.em.fork());
  const polls = await q.selectFrom('classroom_polls').select('id').where('classroom_id', '=', classroomId).orderBy('created_at').orderBy('id').execute();
  const results = await loadPollResults(q, polls.map((p) => p.id));
  return polls.map((p) => ({ classroomId, pollId: p.id, ...results.get(p.id)! }));
}
