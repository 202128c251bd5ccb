import { rooms } from '../../contracts/realtime.ts';
import type { Deps } from '../shared/deps.ts';
import type { Sql } from '../shared/sql.ts';
import type { Classroom } from './access.ts';
import { waitlistOrder } from './presenters.ts';

/*
 * The waitlist moves whenever a seat frees up: a learner cancels (registrations), a former member is released from
 * the community's classes (eviction), or the host raises the capacity (scheduling).
 */

/**
 * Moves the earliest waitlisted learners (still members of the community) into free seats. Runs in the caller's
 * transaction with the classroom row locked; returns the promoted user ids, to notify after commit.
 */
export async function promoteWaitlisted(sql: Sql, classroom: Classroom): Promise<string[]> {
  if (classroom.status !== 'scheduled' && classroom.status !== 'live') return [];
  const [taken] = await sql<{ n: number }>(
    `select count(*)::int as n from classroom_registrations where classroom_id = ? and status = 'registered'`,
    [classroom.id],
  );
  const seats = classroom.capacity - (taken?.n ?? 0);
  if (seats <= 0) return [];
  const promoted = await sql<{ user_id: string }>(
    `update classroom_registrations r set status = 'registered', updated_at = clock_timestamp()
     where r.classroom_id = ? and r.user_id in (
       select w.user_id from classroom_registrations w
       join community_members m on m.community_id = ? and m.user_id = w.user_id
       where w.classroom_id = ? and w.status = 'waitlisted'
       order by ${waitlistOrder('w')}
       limit ?)
     returning r.user_id`,
    [classroom.id, classroom.communityId, classroom.id, seats],
  );
  return promoted.map((r) => r.user_id);
}

/** After commit: each promoted learner hears it on every device. */
export function notifyPromoted(deps: Deps, classroom: Classroom, userIds: readonly string[]): void {
  if (!userIds.length) return;
  deps.publisher.toRoom(userIds.map(rooms.user), 'classroom:registration_promoted', { classroomId: classroom.id, title: classroom.title });
}
