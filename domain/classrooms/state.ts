import type { EntityManager } from '@mikro-orm/postgresql';
import type {
  ClassroomPatchDto,
  ClassroomStateDto,
  ParticipantDto,
  PollDto,
  PollResultsDto,
  WaitingDto,
} from '../../contracts/classrooms.ts';
import { rooms } from '../../contracts/realtime.ts';
import type { Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { toClassroom, type Classroom, type ClassroomRow } from './access.ts';

/** The fields of a patch a change sets; `classroomId` and `version` are added by changeRoom. */
export type PatchFields = Omit<ClassroomPatchDto, 'classroomId' | 'version'>;

export interface RoomChange<T> {
  /** What changed for everyone in the room; null when nothing did (the version is not used up). */
  patch: PatchFields | null;
  result: T;
  /** Runs after commit and after the patch is published (tokens, user-room notices, leaving rooms). */
  after?: () => void | Promise<void>;
}

/**
 * The one way room state changes. Locks the classroom row by taking the next state version (so changes to one room are
 * serialized and numbered without gaps, whichever node makes them), runs `change` in that transaction, and after
 * commit publishes the patch to the room on every node. A change that throws rolls back and uses no version; one that
 * returns a null patch keeps its writes and uses no version either.
 */
export async function changeRoom<T>(
  deps: Deps,
  classroomId: string,
  change: (tx: EntityManager, room: { classroom: Classroom; version: number; sql: Sql }) => Promise<RoomChange<T>>,
): Promise<{ version: number; result: T }> {
  let version = 0;
  const outcome = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const [row] = await sql<ClassroomRow>(
      'update classrooms set state_version = state_version + 1 where id = ? returning *',
      [classroomId],
    );
    if (!row) throw new AppError('not_found', 'No such classroom.');
    const classroom = toClassroom(row);
    version = classroom.stateVersion;
    const out = await change(tx, { classroom, version, sql });
    if (!out.patch) {
      // Nothing anyone sees changed, but the change's own writes (another device's connection row) must stay: give
      // the version back instead of rolling back. The row lock is still held, so nobody has taken the next one.
      await sql('update classrooms set state_version = state_version - 1 where id = ?', [classroomId]);
      version -= 1;
    }
    return out;
  });
  if (outcome.patch) {
    deps.publisher.toRoom(rooms.classroom(classroomId), 'classroom:state', { classroomId, version, ...outcome.patch });
  }
  await outcome.after?.();
  return { version, result: outcome.result };
}

// ---------------------------------------------------------------- presenters

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

interface ParticipantRow {
  user_id: string;
  display_name: string;
  rtc_uid: number;
  role: 'host' | 'cohost' | 'speaker' | 'learner';
  present: boolean;
  stage_invited: boolean;
  hand_raised_at: Date | string | null;
}

/**
 * The roster: the host, co-hosts and every admitted participant, present or not. `userIds` narrows it (for patches);
 * a user asked for but absent from the result is no longer on the roster (send them in `removed`).
 */
export async function loadParticipants(sql: Sql, classroomId: string, userIds?: readonly string[]): Promise<ParticipantDto[]> {
  const rows = await sql<ParticipantRow>(
    `with roster as (
       select k.host_id as user_id from classrooms k where k.id = ?
       union select h.user_id from classroom_cohosts h where h.classroom_id = ?
       union select p.user_id from classroom_participants p where p.classroom_id = ? and p.admission = 'admitted'
     )
     select u.id as user_id, u.display_name, u.rtc_uid,
            case when u.id = k.host_id then 'host'
                 when h.user_id is not null then 'cohost'
                 when p.stage = 'speaker' then 'speaker'
                 else 'learner' end as role,
            exists (select 1 from classroom_connections c where c.classroom_id = k.id and c.user_id = u.id) as present,
            coalesce(p.stage = 'invited', false) as stage_invited,
            p.hand_raised_at
     from roster r
     join users u on u.id = r.user_id
     join classrooms k on k.id = ?
     left join classroom_cohosts h on h.classroom_id = k.id and h.user_id = u.id
     left join classroom_participants p on p.classroom_id = k.id and p.user_id = u.id
     where (?::uuid[] is null or u.id = any(?::uuid[]))
     order by (u.id = k.host_id) desc, (h.user_id is not null) desc, lower(u.display_name), u.id`,
    [classroomId, classroomId, classroomId, classroomId, userIds ?? null, userIds ?? null],
  );
  return rows.map((r) => ({
    user: { id: r.user_id, displayName: r.display_name },
    rtcUid: Number(r.rtc_uid),
    role: r.role,
    present: r.present,
    stageInvited: r.stage_invited,
    handRaisedAt: iso(r.hand_raised_at),
  }));
}

/** Patch fields for a change to some people: their current roster entries, and `removed` for those no longer on it. */
export async function participantsPatch(sql: Sql, classroomId: string, userIds: readonly string[]): Promise<PatchFields> {
  const participants = await loadParticipants(sql, classroomId, userIds);
  const kept = new Set(participants.map((p) => p.user.id));
  const removed = userIds.filter((id) => !kept.has(id));
  return { participants, ...(removed.length ? { removed } : {}) };
}

/** Raised hands in the order they went up (the state version at raising: one order for every node). */
export async function loadHandQueue(sql: Sql, classroomId: string): Promise<string[]> {
  const rows = await sql<{ user_id: string }>(
    `select user_id from classroom_participants
     where classroom_id = ? and hand_raised_at is not null and admission = 'admitted'
     order by hand_order, hand_raised_at, user_id`,
    [classroomId],
  );
  return rows.map((r) => r.user_id);
}

export async function loadWaiting(sql: Sql, classroomId: string): Promise<WaitingDto[]> {
  const rows = await sql<{ user_id: string; display_name: string; waiting_since: Date | string }>(
    `select p.user_id, u.display_name, coalesce(p.waiting_since, p.created_at) as waiting_since
     from classroom_participants p join users u on u.id = p.user_id
     where p.classroom_id = ? and p.admission = 'waiting'
     order by waiting_since, p.user_id`,
    [classroomId],
  );
  return rows.map((r) => ({ user: { id: r.user_id, displayName: r.display_name }, since: iso(r.waiting_since)! }));
}

interface PollRow {
  id: string;
  question: string;
  options: string[];
  multiple: boolean;
  correct_options: number[] | null;
  time_limit_seconds: number | null;
  closes_at: Date | string | null;
  closed_at: Date | string | null;
  revealed_at: Date | string | null;
  results_version: string | number;
  created_at: Date | string;
}

/** Aggregated answers per poll: counts per option, and how many answered. */
export async function loadPollResults(sql: Sql, pollIds: readonly string[]): Promise<Map<string, PollResultsDto & { resultsVersion: number }>> {
  const result = new Map<string, PollResultsDto & { resultsVersion: number }>();
  if (!pollIds.length) return result;
  const polls = await sql<{ id: string; options: string[]; results_version: string | number }>(
    'select id, options, results_version from classroom_polls where id = any(?::uuid[])',
    [pollIds],
  );
  const answers = await sql<{ poll_id: string; option: number; n: number }>(
    `select a.poll_id, o.option, count(*)::int as n
     from classroom_poll_answers a cross join lateral unnest(a.options) as o(option)
     where a.poll_id = any(?::uuid[]) group by a.poll_id, o.option`,
    [pollIds],
  );
  const answered = await sql<{ poll_id: string; n: number }>(
    'select poll_id, count(*)::int as n from classroom_poll_answers where poll_id = any(?::uuid[]) group by poll_id',
    [pollIds],
  );
  for (const poll of polls) {
    result.set(poll.id, { counts: poll.options.map(() => 0), answered: 0, resultsVersion: Number(poll.results_version) });
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

/** Polls as everyone in the room sees them: results and correct options only once revealed. */
export async function loadPolls(sql: Sql, classroomId: string, now: Date, pollIds?: readonly string[]): Promise<PollDto[]> {
  const rows = await sql<PollRow>(
    `select id, question, options, multiple, correct_options, time_limit_seconds, closes_at, closed_at, revealed_at,
            results_version, created_at
     from classroom_polls where classroom_id = ? and (?::uuid[] is null or id = any(?::uuid[]))
     order by created_at, id`,
    [classroomId, pollIds ?? null, pollIds ?? null],
  );
  const revealed = rows.filter((r) => r.revealed_at !== null).map((r) => r.id);
  const results = await loadPollResults(sql, revealed);
  return rows.map((r) => presentPoll(r, now, results.get(r.id) ?? null));
}

export function pollIsOpen(row: { closed_at: Date | string | null; closes_at: Date | string | null }, now: Date): boolean {
  if (row.closed_at !== null) return false;
  return row.closes_at === null || new Date(row.closes_at).getTime() > now.getTime();
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
    closesAt: iso(r.closes_at),
    status: pollIsOpen(r, now) ? 'open' : 'closed',
    revealed,
    createdAt: iso(r.created_at)!,
    results: revealed && results ? { counts: results.counts, answered: results.answered } : null,
    correctOptions: revealed ? r.correct_options : null,
  };
}

/**
 * The whole room at one version. Call inside a transaction that holds the classroom row (changeRoom's lock, or a
 * `for share` read) so the parts and the version agree.
 */
export async function loadRoomState(sql: Sql, classroom: Classroom, now: Date): Promise<ClassroomStateDto> {
  const [participants, handQueue, waiting, polls] = [
    await loadParticipants(sql, classroom.id),
    await loadHandQueue(sql, classroom.id),
    await loadWaiting(sql, classroom.id),
    await loadPolls(sql, classroom.id, now),
  ];
  return {
    classroomId: classroom.id,
    version: classroom.stateVersion,
    status: classroom.status,
    startedAt: iso(classroom.startedAt),
    endedAt: iso(classroom.endedAt),
    participants,
    handQueue,
    waiting,
    muteAll: classroom.muteAllAt && classroom.muteAllById ? { at: classroom.muteAllAt.toISOString(), by: classroom.muteAllById } : null,
    polls,
  };
}
