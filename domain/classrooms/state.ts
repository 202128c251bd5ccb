import type { EntityManager } from '@mikro-orm/postgresql';
import { sql, type Selectable } from 'kysely';
import type {
  ClassroomPatchDto,
  ClassroomStateDto,
  ParticipantDto,
  PollDto,
  PollResultsDto,
  WaitingDto,
} from '../../contracts/classrooms.ts';
import { db, type DB, type Db } from '../../orm/db.ts';
import type { Classroom } from '../access/classroom.ts';
import type { Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';

/** The fields of a patch a change sets; `classroomId` and `version` are added by changeRoom. */
export type PatchFields = Omit<ClassroomPatchDto, 'classroomId' | 'version'>;

export interface RoomChange<T> {
  /** What changed for everyone in the room; null when nothing did (the version is not used up). */
  patch: PatchFields | null;
  result: T;
  /** Runs after commit and after the patch is announced (tokens, user-room notices, leaving rooms). */
  after?: () => void | Promise<void>;
}

/** What a change runs with: the classroom row as locked, the version it takes, and its transaction. */
export interface Room {
  classroom: Classroom;
  version: number;
  q: Db;
  tx: EntityManager;
}

/**
 * The one way room state changes. Locks the classroom row by taking the next state version (so changes to one room are
 * serialized and numbered without gaps, whichever node makes them), runs `change` in that transaction, and after
 * commit announces the patch (`classroom.state_changed`). A change that throws rolls back and uses no version; one that
 * returns a null patch keeps its writes and uses no version either.
 */
export async function changeRoom<T>(
  deps: Deps,
  classroomId: string,
  change: (room: Room) => Promise<RoomChange<T>>,
): Promise<{ version: number; result: T }> {
  let version = 0;
  const outcome = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const classroom = await q
      .updateTable('classrooms')
      .set((eb) => ({ state_version: eb('state_version', '+', 1) }))
      .where('id', '=', classroomId)
      .returningAll()
      .executeTakeFirst();
    if (!classroom) throw new AppError('not_found', 'No such classroom.');
    version = classroom.state_version;
    const out = await change({ classroom, version, q, tx });
    if (!out.patch) {
      // Nothing anyone sees changed, but the change's own writes (another device's connection row) must stay: give
      // the version back instead of rolling back. The row lock is still held, so nobody has taken the next one.
      await q
        .updateTable('classrooms')
        .set((eb) => ({ state_version: eb('state_version', '-', 1) }))
        .where('id', '=', classroomId)
        .execute();
      version -= 1;
    }
    return out;
  });
  if (outcome.patch) await deps.events.emit('classroom.state_changed', { patch: { classroomId, version, ...outcome.patch } });
  await outcome.after?.();
  return { version, result: outcome.result };
}

// ---------------------------------------------------------------- presenters

const isoOrNull = (at: Date | null) => at?.toISOString() ?? null;

/**
 * The roster: the host, co-hosts and every admitted participant, present or not. `userIds` narrows it (for patches);
 * a user asked for but absent from the result is no longer on the roster (send them in `removed`).
 */
export async function loadParticipants(q: Db, classroomId: string, userIds?: readonly string[]): Promise<ParticipantDto[]> {
  if (userIds?.length === 0) return [];
  const rows = await q
    .with('roster', (w) =>
      w
        .selectFrom('classrooms as k')
        .select('k.host_id as user_id')
        .where('k.id', '=', classroomId)
        .union(w.selectFrom('classroom_cohosts as h').select('h.user_id').where('h.classroom_id', '=', classroomId))
        .union(
          w
            .selectFrom('classroom_participants as p')
            .select('p.user_id')
            .where('p.classroom_id', '=', classroomId)
            .where('p.admission', '=', 'admitted'),
        ),
    )
    .selectFrom('roster as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .innerJoin('classrooms as k', (join) => join.on('k.id', '=', classroomId))
    .leftJoin('classroom_cohosts as h', (join) => join.onRef('h.classroom_id', '=', 'k.id').onRef('h.user_id', '=', 'u.id'))
    .leftJoin('classroom_participants as p', (join) => join.onRef('p.classroom_id', '=', 'k.id').onRef('p.user_id', '=', 'u.id'))
    .select((eb) => [
      'u.id',
      'u.display_name',
      'u.rtc_uid',
      eb('u.id', '=', eb.ref('k.host_id')).$castTo<boolean>().as('is_host'),
      eb('h.user_id', 'is not', null).$castTo<boolean>().as('is_cohost'),
      'p.stage',
      'p.hand_raised_at',
      eb
        .exists(
          eb
            .selectFrom('classroom_connections as c')
            .select(sql.lit(1).as('one'))
            .whereRef('c.classroom_id', '=', 'k.id')
            .whereRef('c.user_id', '=', 'u.id'),
        )
        .$castTo<boolean>()
        .as('present'),
    ])
    .$if(userIds !== undefined, (qb) => qb.where('u.id', 'in', userIds!))
    .orderBy('is_host', 'desc')
    .orderBy('is_cohost', 'desc')
    .orderBy((eb) => eb.fn('lower', ['u.display_name']))
    .orderBy('u.id')
    .execute();
  return rows.map((r) => ({
    user: { id: r.id, displayName: r.display_name },
    rtcUid: r.rtc_uid,
    role: r.is_host ? 'host' : r.is_cohost ? 'cohost' : r.stage === 'speaker' ? 'speaker' : 'learner',
    present: r.present,
    stageInvited: r.stage === 'invited',
    handRaisedAt: isoOrNull(r.hand_raised_at),
  }));
}

/** Patch fields for a change to some people: their current roster entries, and `removed` for those no longer on it. */
export async function participantsPatch(q: Db, classroomId: string, userIds: readonly string[]): Promise<PatchFields> {
  const participants = await loadParticipants(q, classroomId, userIds);
  const kept = new Set(participants.map((p) => p.user.id));
  const removed = userIds.filter((id) => !kept.has(id));
  return { participants, ...(removed.length ? { removed } : {}) };
}

/** Raised hands in the order they went up (the state version at raising: one order for every node). */
export async function loadHandQueue(q: Db, classroomId: string): Promise<string[]> {
  const rows = await q
    .selectFrom('classroom_participants')
    .select('user_id')
    .where('classroom_id', '=', classroomId)
    .where('hand_raised_at', 'is not', null)
    .where('admission', '=', 'admitted')
    .orderBy('hand_order')
    .orderBy('hand_raised_at')
    .orderBy('user_id')
    .execute();
  return rows.map((r) => r.user_id);
}

export async function loadWaiting(q: Db, classroomId: string): Promise<WaitingDto[]> {
  const rows = await q
    .selectFrom('classroom_participants as p')
    .innerJoin('users as u', 'u.id', 'p.user_id')
    .select(['p.user_id', 'u.display_name', 'p.waiting_since', 'p.created_at'])
    .where('p.classroom_id', '=', classroomId)
    .where('p.admission', '=', 'waiting')
    .orderBy((eb) => eb.fn.coalesce('p.waiting_since', 'p.created_at'))
    .orderBy('p.user_id')
    .execute();
  return rows.map((r) => ({ user: { id: r.user_id, displayName: r.display_name }, since: (r.waiting_since ?? r.created_at).toISOString() }));
}

export type PollResults = PollResultsDto & { resultsVersion: number };

/** Aggregated answers per poll: counts per option, and how many answered. */
export async function loadPollResults(q: Db, pollIds: readonly string[]): Promise<Map<string, PollResults>> {
  const result = new Map<string, PollResults>();
  if (!pollIds.length) return result;
  const polls = await q.selectFrom('classroom_polls').select(['id', 'options', 'results_version']).where('id', 'in', pollIds).execute();
  const answers = await q
    .selectFrom('classroom_poll_answers as a')
    // A function in FROM sees the items before it: one row per chosen option.
    .crossJoin(sql<{ option: number }>`unnest(a.options)`.as<'o'>(sql`o(option)`))
    .select(['a.poll_id', 'o.option', sql<number>`count(*)::int`.as('n')])
    .where('a.poll_id', 'in', pollIds)
    .groupBy(['a.poll_id', 'o.option'])
    .execute();
  const answered = await q
    .selectFrom('classroom_poll_answers')
    .select(['poll_id', sql<number>`count(*)::int`.as('n')])
    .where('poll_id', 'in', pollIds)
    .groupBy('poll_id')
    .execute();
  for (const poll of polls) {
    result.set(poll.id, { counts: poll.options.map(() => 0), answered: 0, resultsVersion: poll.results_version });
  }
  for (const a of answers) {
    const r = result.get(a.poll_id);
    if (r && a.option < r.counts.length) r.counts[a.option] = a.n;
  }
  for (const a of answered) {
    const r = result.get(a.poll_id);
    if (r) r.answered = a.n;
  }
  return result;
}

type PollRow = Pick<
  Selectable<DB['classroom_polls']>,
  'id' | 'question' | 'options' | 'multiple' | 'correct_options' | 'time_limit_seconds' | 'closes_at' | 'closed_at' | 'revealed_at' | 'created_at'
>;

/** Polls as everyone in the room sees them: results and correct options only once revealed. */
export async function loadPolls(q: Db, classroomId: string, now: Date, pollIds?: readonly string[]): Promise<PollDto[]> {
  if (pollIds?.length === 0) return [];
  const rows = await q
    .selectFrom('classroom_polls')
    .select(['id', 'question', 'options', 'multiple', 'correct_options', 'time_limit_seconds', 'closes_at', 'closed_at', 'revealed_at', 'created_at'])
    .where('classroom_id', '=', classroomId)
    .$if(pollIds !== undefined, (qb) => qb.where('id', 'in', pollIds!))
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const revealed = rows.filter((r) => r.revealed_at !== null).map((r) => r.id);
  const results = await loadPollResults(q, revealed);
  return rows.map((r) => presentPoll(r, now, results.get(r.id) ?? null));
}

export function pollIsOpen(poll: Pick<PollRow, 'closed_at' | 'closes_at'>, now: Date): boolean {
  if (poll.closed_at !== null) return false;
  return poll.closes_at === null || poll.closes_at.getTime() > now.getTime();
}

function presentPoll(r: PollRow, now: Date, results: PollResultsDto | null): PollDto {
  const revealed = r.revealed_at !== null;
  return {
    id: r.id,
    question: r.question,
    options: r.options,
    multiple: r.multiple,
    quiz: r.correct_options !== null,
    timeLimitSeconds: r.time_limit_seconds,
    closesAt: isoOrNull(r.closes_at),
    status: pollIsOpen(r, now) ? 'open' : 'closed',
    revealed,
    createdAt: r.created_at.toISOString(),
    results: revealed && results ? { counts: results.counts, answered: results.answered } : null,
    correctOptions: revealed ? r.correct_options : null,
  };
}

/**
 * The whole room at one version. Call inside a transaction that holds the classroom row (changeRoom's lock, or a
 * `for share` read) so the parts and the version agree.
 */
export async function loadRoomState(q: Db, classroom: Classroom, now: Date): Promise<ClassroomStateDto> {
  const [participants, handQueue, waiting, polls] = [
    await loadParticipants(q, classroom.id),
    await loadHandQueue(q, classroom.id),
    await loadWaiting(q, classroom.id),
    await loadPolls(q, classroom.id, now),
  ];
  return {
    classroomId: classroom.id,
    version: classroom.state_version,
    status: classroom.status,
    startedAt: isoOrNull(classroom.started_at),
    endedAt: isoOrNull(classroom.ended_at),
    participants,
    handQueue,
    waiting,
    muteAll: classroom.mute_all_at && classroom.mute_all_by_id ? { at: classroom.mute_all_at.toISOString(), by: classroom.mute_all_by_id } : null,
    polls,
  };
}
