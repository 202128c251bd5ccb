import { sql } from 'kysely';
import type { Db } from '../../orm/db.ts';
import type { Classroom } from '../access/classroom.ts';
import type { Deps } from '../shared/deps.ts';

/*
 * The waitlist moves whenever a seat frees up: a learner cancels (registrations), a former member is released from
 * the community's classes (eviction), or the host raises the capacity (scheduling).
 */

/**
 * The waitlist order, first registered first, over a registrations row aliased `alias` (compare or sort the refs as
 * one row). `registered_at` comes from the product clock; `updated_at` is the database's own clock at the write, so
 * registrations made at the same product instant still keep their order.
 */
export const waitlistOrder = <A extends string>(alias: A) => [`${alias}.registered_at`, `${alias}.updated_at`, `${alias}.user_id`] as const;

/** Learners holding a seat. */
export async function countRegistered(q: Db, classroomId: string): Promise<number> {
  const taken = await q
    .selectFrom('classroom_registrations')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('classroom_id', '=', classroomId)
    .where('status', '=', 'registered')
    .executeTakeFirstOrThrow();
  return taken.n;
}

/**
 * Moves the earliest waitlisted learners (still members of the community) into free seats. Runs in the caller's
 * transaction with the classroom row locked; returns the promoted user ids, to announce after commit.
 */
export async function promoteWaitlisted(q: Db, classroom: Classroom): Promise<string[]> {
  if (classroom.status !== 'scheduled' && classroom.status !== 'live') return [];
  const seats = classroom.capacity - (await countRegistered(q, classroom.id));
  if (seats <= 0) return [];
  const promoted = await q
    .updateTable('classroom_registrations')
    .set({ status: 'registered', updated_at: sql<Date>`clock_timestamp()` })
    .where('classroom_id', '=', classroom.id)
    .where('user_id', 'in', (eb) =>
      eb
        .selectFrom('classroom_registrations as w')
        .innerJoin('community_members as m', (join) => join.on('m.community_id', '=', classroom.community_id).onRef('m.user_id', '=', 'w.user_id'))
        .select('w.user_id')
        .where('w.classroom_id', '=', classroom.id)
        .where('w.status', '=', 'waitlisted')
        .orderBy((ob) => ob.refTuple(...waitlistOrder('w')))
        .limit(seats),
    )
    .returning('user_id')
    .execute();
  return promoted.map((r) => r.user_id);
}

/** After commit: each promoted learner hears it on every device. */
export async function announcePromoted(deps: Deps, classroom: Pick<Classroom, 'id' | 'title'>, userIds: readonly string[]): Promise<void> {
  if (!userIds.length) return;
  await deps.events.emit('classroom.registrations_promoted', { classroomId: classroom.id, title: classroom.title, userIds: [...userIds] });
}
