import { rooms } from '../../contracts/realtime.ts';
import type { Deps } from '../shared/deps.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import type { Classroom } from './access.ts';
import { closeAttendance } from './connections.ts';
import { changeRoom, loadHandQueue, loadParticipants, loadWaiting, participantsPatch, type PatchFields } from './state.ts';
import { notifyPromoted, promoteWaitlisted } from './waitlist.ts';

export type EvictionReason = 'removed' | 'unregistered' | 'denied';

/**
 * Takes someone out of a room inside a room change: their connections go, their attendance interval ends, and they
 * leave the roster, the hand queue, the stage and the waiting room. A denied learner keeps a `denied` row so they
 * are refused from now on; the others lose their row (a learner who registers again starts afresh).
 * Returns the patch (null when they were not in the room at all) and the after-commit work for their sockets.
 */
export async function evictInRoom(
  sql: Sql,
  classroom: Classroom,
  userId: string,
  reason: EvictionReason,
  now: Date,
): Promise<{ patch: PatchFields | null; wasWaiting: boolean; after: (deps: Deps) => void }> {
  const classroomId = classroom.id;
  const onRosterBefore = (await loadParticipants(sql, classroomId, [userId])).length > 0;
  const connections = await sql('delete from classroom_connections where classroom_id = ? and user_id = ? returning socket_id', [
    classroomId,
    userId,
  ]);
  await closeAttendance(sql, classroomId, [userId], now);
  const [before] = await sql<{ admission: string; hand_raised: boolean }>(
    `select admission, hand_raised_at is not null as hand_raised from classroom_participants where classroom_id = ? and user_id = ?`,
    [classroomId, userId],
  );
  if (reason === 'denied') {
    await sql(
      `insert into classroom_participants (classroom_id, user_id, admission) values (?, ?, 'denied')
       on conflict (classroom_id, user_id) do update
       set admission = 'denied', waiting_since = null, hand_raised_at = null, hand_order = null, stage = 'none'`,
      [classroomId, userId],
    );
  } else {
    await sql('delete from classroom_participants where classroom_id = ? and user_id = ?', [classroomId, userId]);
  }
  // A community removal already took every channel of the community away (and announced it).
  const leavesChat = reason !== 'removed';
  if (leavesChat) await sql('delete from channel_members where channel_id = ? and user_id = ?', [classroom.channelId, userId]);

  const after = (deps: Deps) => {
    const userRoom = rooms.user(userId);
    deps.publisher.leaveRoom(userRoom, rooms.classroom(classroomId));
    deps.publisher.leaveRoom(userRoom, rooms.classroomStaff(classroomId));
    if (leavesChat) {
      deps.publisher.toRoom(userRoom, 'channel:removed', { channelId: classroom.channelId });
      deps.publisher.leaveRoom(userRoom, rooms.channel(classroom.channelId));
    }
  };
  const wasWaiting = before?.admission === 'waiting';
  if (!connections.length && !before) return { patch: null, wasWaiting, after };
  const patch: PatchFields = onRosterBefore ? await participantsPatch(sql, classroomId, [userId]) : {};
  if (wasWaiting) patch.waiting = await loadWaiting(sql, classroomId);
  if (before?.hand_raised) patch.handQueue = await loadHandQueue(sql, classroomId);
  return { patch: Object.keys(patch).length ? patch : null, wasWaiting, after };
}

/**
 * Takes a user out of one room on every node: the room hears of it (`removed`), the user's sockets are told
 * `classroom:removed` and leave the room. For registration cancellations and removals; call after the change that
 * took their access away has committed, so a re-join is refused.
 */
export async function evictFromRoom(deps: Deps, classroomId: string, userId: string, reason: EvictionReason): Promise<boolean> {
  const now = deps.clock.now();
  const { result } = await changeRoom(deps, classroomId, async (_tx, { classroom, sql }) => {
    const evicted = await evictInRoom(sql, classroom, userId, reason, now);
    return {
      patch: evicted.patch,
      result: evicted.patch !== null,
      after: () => {
        if (!evicted.patch) return;
        evicted.after(deps);
        deps.publisher.toRoom(rooms.user(userId), 'classroom:removed', { classroomId, reason });
      },
    };
  });
  return result;
}

/**
 * After someone left or was removed from a community (after commit), in every scheduled or live class of it: their
 * seat or waitlist place is given up (the next waitlisted member is promoted and told), they stop being a co-host,
 * and they are out of the room on every node. Failures are logged, not thrown: the membership change has committed,
 * and the policies already refuse them everything in those classes.
 */
export async function removeFromCommunityClassrooms(deps: Deps, userId: string, communityId: string): Promise<void> {
  try {
    const classrooms = await sqlOf(deps.orm.em.fork())<{ id: string }>(
      `select k.id from classrooms k
       where k.community_id = ? and k.status in ('scheduled', 'live')
         and (exists (select 1 from classroom_participants p where p.classroom_id = k.id and p.user_id = ?)
              or exists (select 1 from classroom_connections c where c.classroom_id = k.id and c.user_id = ?)
              or exists (select 1 from classroom_cohosts h where h.classroom_id = k.id and h.user_id = ?)
              or exists (select 1 from classroom_registrations r
                         where r.classroom_id = k.id and r.user_id = ? and r.status in ('registered', 'waitlisted')))`,
      [communityId, userId, userId, userId, userId],
    );
    for (const { id } of classrooms) await releaseFormerMember(deps, id, userId);
  } catch (err) {
    deps.logger.warn({ err: String(err), userId, communityId }, 'classrooms: removing a former member from classes failed');
  }
}

async function releaseFormerMember(deps: Deps, classroomId: string, userId: string): Promise<void> {
  const now = deps.clock.now();
  await changeRoom(deps, classroomId, async (_tx, { classroom, sql }) => {
    const onRoster = (await loadParticipants(sql, classroomId, [userId])).length > 0;
    await sql('delete from classroom_cohosts where classroom_id = ? and user_id = ?', [classroomId, userId]);
    await sql(
      `update classroom_registrations set status = 'cancelled', updated_at = clock_timestamp()
       where classroom_id = ? and user_id = ? and status in ('registered', 'waitlisted')`,
      [classroomId, userId],
    );
    const promoted = await promoteWaitlisted(sql, classroom);
    const evicted = await evictInRoom(sql, classroom, userId, 'removed', now);
    const patch: PatchFields = { ...(evicted.patch ?? {}), ...(onRoster ? await participantsPatch(sql, classroomId, [userId]) : {}) };
    const inRoom = evicted.patch !== null || onRoster;
    return {
      patch: Object.keys(patch).length ? patch : null,
      result: undefined,
      after: () => {
        notifyPromoted(deps, classroom, promoted);
        evicted.after(deps);
        if (inRoom) deps.publisher.toRoom(rooms.user(userId), 'classroom:removed', { classroomId, reason: 'removed' });
      },
    };
  });
}
