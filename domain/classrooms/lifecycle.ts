import { sql } from 'kysely';
import { EARLY_START_MINUTES, type ClassroomDto, type RtcTokenDto } from '../../contracts/classrooms.ts';
import { db } from '../../orm/db.ts';
import { checkClassroomAccess, loadClassroomAccess, type Classroom } from '../access/classroom.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { markAttendance } from './attendance.ts';
import { loadClassroomDto } from './presenters.ts';
import { rtcTokenFor, videoConfigured } from './rtc.ts';
import { changeRoom, loadParticipants, loadPolls } from './state.ts';

const NOT_SCHEDULED: Record<Exclude<Classroom['status'], 'scheduled'>, string> = {
  live: 'This class is already live.',
  ended: 'This class has ended.',
  cancelled: 'This class was cancelled.',
};

/**
 * Opens the class (from EARLY_START_MINUTES before its start). Everyone with a place in it — registered learners, the
 * host and co-hosts — hears of it on every device (`classroom.started`).
 */
export async function startClassroom(deps: Deps, actor: Actor, classroomId: string): Promise<ClassroomDto> {
  const now = deps.clock.now();
  const { result } = await changeRoom(deps, classroomId, async ({ q, tx, classroom }) => {
    checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId), 'manage');
    if (classroom.status !== 'scheduled') throw new AppError('conflict', NOT_SCHEDULED[classroom.status]);
    const opensAt = new Date(classroom.starts_at.getTime() - EARLY_START_MINUTES * 60_000);
    if (now < opensAt) {
      throw new AppError(
        'conflict',
        `Too early: this class can start from ${opensAt.toISOString()}, ${EARLY_START_MINUTES} minutes before its scheduled start.`,
        { details: { opensAt: opensAt.toISOString() } },
      );
    }
    await q.updateTable('classrooms').set({ status: 'live', started_at: now }).where('id', '=', classroomId).execute();
    const attendees = await q
      .selectFrom('classrooms')
      .select('host_id as user_id')
      .where('id', '=', classroomId)
      .union(q.selectFrom('classroom_cohosts').select('user_id').where('classroom_id', '=', classroomId))
      .union(q.selectFrom('classroom_registrations').select('user_id').where('classroom_id', '=', classroomId).where('status', '=', 'registered'))
      .execute();
    const started = { classroomId, communityId: classroom.community_id, title: classroom.title, attendeeIds: attendees.map((a) => a.user_id) };
    // Durable too: "class is live" notifications are created even if the node dies right after the commit.
    await deps.events.record(tx, 'classroom.started', started);
    return {
      patch: { status: 'live', startedAt: now.toISOString() },
      result: await loadClassroomDto(q, actor.userId, classroomId),
      after: () => deps.events.emit('classroom.started', started),
    };
  });
  return result;
}

/**
 * Ends a live class for everyone: closes attendance and the room (connections, hands, stage, open polls), makes the
 * chat read-only, and marks each registered learner's attendance. No video token is issued afterwards.
 */
export async function endClassroom(deps: Deps, actor: Actor, classroomId: string): Promise<ClassroomDto> {
  const now = deps.clock.now();
  const { result } = await changeRoom(deps, classroomId, async ({ q, tx, classroom }) => {
    checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId), 'manage');
    if (classroom.status !== 'live') {
      throw new AppError('conflict', classroom.status === 'scheduled' ? 'This class has not started yet.' : NOT_SCHEDULED[classroom.status]);
    }
    // A clock that reads earlier than the start (clock skew between nodes) still gives a class of zero length, not less.
    const endedAt = new Date(Math.max(now.getTime(), classroom.started_at?.getTime() ?? now.getTime()));
    await q.updateTable('classrooms').set({ status: 'ended', ended_at: endedAt }).where('id', '=', classroomId).execute();
    await q
      .updateTable('classroom_attendance')
      .set({ left_at: sql<Date>`greatest(joined_at, ${endedAt}::timestamptz)` })
      .where('classroom_id', '=', classroomId)
      .where('left_at', 'is', null)
      .execute();
    await q.deleteFrom('classroom_connections').where('classroom_id', '=', classroomId).execute();
    await q
      .updateTable('classroom_participants')
      .set({ hand_raised_at: null, hand_order: null, stage: 'none' })
      .where('classroom_id', '=', classroomId)
      .execute();
    await q
      .updateTable('channels')
      .set((eb) => ({ archived_at: eb.fn.coalesce('archived_at', eb.val(endedAt)) }))
      .where('id', '=', classroom.channel_id)
      .execute();
    // A time-limited poll closes at its deadline if that came first.
    const closed = await q
      .updateTable('classroom_polls')
      .set((eb) => ({ closed_at: eb.fn<Date>('least', [eb.fn.coalesce('closes_at', eb.val(endedAt)), eb.val(endedAt)]) }))
      .where('classroom_id', '=', classroomId)
      .where('closed_at', 'is', null)
      .returning('id')
      .execute();
    await markAttendance(q, { ...classroom, status: 'ended', ended_at: endedAt }, deps.classrooms);
    const ended = { classroomId, communityId: classroom.community_id };
    // Durable too: catalogues and search drop the class even if the node dies right after the commit.
    await deps.events.record(tx, 'classroom.ended', ended);
    return {
      patch: {
        status: 'ended',
        endedAt: endedAt.toISOString(),
        participants: await loadParticipants(q, classroomId),
        handQueue: [],
        ...(closed.length ? { polls: await loadPolls(q, classroomId, endedAt, closed.map((p) => p.id)) } : {}),
      },
      result: await loadClassroomDto(q, actor.userId, classroomId),
      after: () => deps.events.emit('classroom.ended', ended),
    };
  });
  return result;
}

/**
 * A video token for the caller, renewable through the same call: every rule is checked again each time (see
 * ClassroomPolicy.rtcToken). Answers `unavailable` when the server has no video project.
 */
export async function issueRtcToken(deps: Deps, actor: Actor, classroomId: string): Promise<RtcTokenDto> {
  return deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const access = checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId), 'view');
    videoConfigured(deps.classrooms);
    return rtcTokenFor(deps.classrooms, q, actor, access, deps.clock.now());
  });
}
