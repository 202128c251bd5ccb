import { EARLY_START_MINUTES, type ClassroomDto, type RtcTokenDto } from '../../contracts/classrooms.ts';
import { rooms } from '../../contracts/realtime.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf } from '../shared/sql.ts';
import { checkClassroomAccess, loadClassroomAccess, type Classroom } from './access.ts';
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
 * host and co-hosts — hears `classroom:started` on every device, through one emit to all their user rooms.
 */
export async function startClassroom(deps: Deps, actor: Actor, classroomId: string): Promise<ClassroomDto> {
  const now = deps.clock.now();
  const { result } = await changeRoom(deps, classroomId, async (_tx, { sql, classroom }) => {
    checkClassroomAccess(actor, await loadClassroomAccess(sql, actor.userId, classroomId), 'manage');
    if (classroom.status !== 'scheduled') throw new AppError('conflict', NOT_SCHEDULED[classroom.status]);
    const opensAt = new Date(classroom.startsAt.getTime() - EARLY_START_MINUTES * 60_000);
    if (now < opensAt) {
      throw new AppError(
        'conflict',
        `Too early: this class can start from ${opensAt.toISOString()}, ${EARLY_START_MINUTES} minutes before its scheduled start.`,
        { details: { opensAt: opensAt.toISOString() } },
      );
    }
    await sql(`update classrooms set status = 'live', started_at = ? where id = ?`, [now, classroomId]);
    const people = await sql<{ user_id: string }>(
      `select host_id as user_id from classrooms where id = ?
       union select user_id from classroom_cohosts where classroom_id = ?
       union select user_id from classroom_registrations where classroom_id = ? and status = 'registered'`,
      [classroomId, classroomId, classroomId],
    );
    return {
      patch: { status: 'live', startedAt: now.toISOString() },
      result: await loadClassroomDto(sql, actor.userId, classroomId),
      after: () =>
        deps.publisher.toRoom(
          people.map((p) => rooms.user(p.user_id)),
          'classroom:started',
          { classroomId, communityId: classroom.communityId, title: classroom.title },
        ),
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
  const { result } = await changeRoom(deps, classroomId, async (_tx, { sql, classroom }) => {
    checkClassroomAccess(actor, await loadClassroomAccess(sql, actor.userId, classroomId), 'manage');
    if (classroom.status !== 'live') {
      throw new AppError('conflict', classroom.status === 'scheduled' ? 'This class has not started yet.' : NOT_SCHEDULED[classroom.status]);
    }
    // A clock that reads earlier than the start (clock skew between nodes) still gives a class of zero length, not less.
    const endedAt = new Date(Math.max(now.getTime(), classroom.startedAt?.getTime() ?? now.getTime()));
    await sql(`update classrooms set status = 'ended', ended_at = ? where id = ?`, [endedAt, classroomId]);
    await sql(
      'update classroom_attendance set left_at = greatest(joined_at, ?::timestamptz) where classroom_id = ? and left_at is null',
      [endedAt, classroomId],
    );
    await sql('delete from classroom_connections where classroom_id = ?', [classroomId]);
    await sql(`update classroom_participants set hand_raised_at = null, hand_order = null, stage = 'none' where classroom_id = ?`, [classroomId]);
    await sql('update channels set archived_at = coalesce(archived_at, ?) where id = ?', [endedAt, classroom.channelId]);
    // A time-limited poll closes at its deadline if that came first.
    const closed = await sql<{ id: string }>(
      `update classroom_polls set closed_at = least(coalesce(closes_at, ?::timestamptz), ?::timestamptz)
       where classroom_id = ? and closed_at is null returning id`,
      [endedAt, endedAt, classroomId],
    );
    await markAttendance(sql, { ...classroom, status: 'ended', endedAt }, deps.classrooms);
    return {
      patch: {
        status: 'ended',
        endedAt: endedAt.toISOString(),
        participants: await loadParticipants(sql, classroomId),
        handQueue: [],
        ...(closed.length ? { polls: await loadPolls(sql, classroomId, endedAt, closed.map((p) => p.id)) } : {}),
      },
      result: await loadClassroomDto(sql, actor.userId, classroomId),
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
    const sql = sqlOf(tx);
    const access = checkClassroomAccess(actor, await loadClassroomAccess(sql, actor.userId, classroomId), 'view');
    videoConfigured(deps.classrooms);
    return rtcTokenFor(deps.classrooms, sql, actor, access, deps.clock.now());
  });
}
