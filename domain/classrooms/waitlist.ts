import { sql } from 'kysely';
import type { Db } from '../../orm/db.ts';
import type { Classroom } from '../access/classroom.ts';
import type { Deps } from '../shared/deps.ts';

/*
 * The waitlist moves whenever a seat frees up: a learner cancels (registrations), a former member is released from
 * the community's classes (eviction), the host raises the capacity (scheduling), or a paid seat's hold lapses
 * (commerce/classroomSeats). In a free class the first waitlisted learner is registered at once; in a ticketed class
 * they are offered a held seat, kept for them while they buy their ticket (status `held` until `hold_expires_at`).
 */

/** When the waitlist moves: the product clock's time and how long a ticketed class holds an offered seat. */
export interface SeatClock {
  now: Date;
  holdMinutes: number;
}

export const seatClockOf = (deps: Pick<Deps, 'clock' | 'commerce'>): SeatClock => ({ now: deps.clock.now(), holdMinutes: deps.commerce.checkoutHoldMinutes });

/**
 * The waitlist order, first registered first, over a registrations row aliased `alias` (compare or sort the refs as
 * one row). `registered_at` comes from the product clock; `updated_at` is the database's own clock at the write, so
 * registrations made at the same product instant still keep their order.
 */
export const waitlistOrder = <A extends string>(alias: A) => [`${alias}.registered_at`, `${alias}.updated_at`, `${alias}.user_id`] as const;

/**
 * Seats taken at `now`: registered learners plus seats held for a buyer whose hold has not lapsed. `exceptUserId`
 * leaves out that learner's own seat (a buyer taking over the seat held for them).
 */
export async function countTaken(q: Db, classroomId: string, now: Date, exceptUserId?: string): Promise<number> {
  const taken = await q
    .selectFrom('classroom_registrations')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('classroom_id', '=', classroomId)
    .where((eb) => eb.or([eb('status', '=', 'registered'), eb.and([eb('status', '=', 'held'), eb('hold_expires_at', '>', now)])]))
    .$if(exceptUserId !== undefined, (qb) => qb.where('user_id', '<>', exceptUserId!))
    .executeTakeFirstOrThrow();
  return taken.n;
}

/** Learners holding a seat (registered only: the capacity check counts held seats too, through countTaken). */
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
 * Offered seats nobody bought in time (holds without an order whose time is up) are given up: the learner had their
 * turn. Holds of a checkout are settled by the checkout's own expiry (commerce releases them). Caller holds the
 * classroom lock; returns whether anything lapsed.
 */
export async function lapseOfferedHolds(q: Db, classroomId: string, now: Date): Promise<boolean> {
  const lapsed = await q
    .updateTable('classroom_registrations')
    .set({ status: 'cancelled', hold_expires_at: null, updated_at: sql<Date>`clock_timestamp()` })
    .where('classroom_id', '=', classroomId)
    .where('status', '=', 'held')
    .where('order_id', 'is', null)
    .where('hold_expires_at', '<=', now)
    .returning('user_id')
    .execute();
  return lapsed.length > 0;
}

/**
 * Lapses the offered holds whose time is up and offers their seats to the next on the waitlist (caller holds the
 * classroom lock). Returns the promoted user ids, to announce after commit.
 */
export async function settleLapsedHolds(q: Db, classroom: Classroom, clock: SeatClock): Promise<string[]> {
  if (!(await lapseOfferedHolds(q, classroom.id, clock.now))) return [];
  return promoteWaitlisted(q, classroom, clock);
}

/**
 * Moves the earliest waitlisted learners (still members of the community) into free seats: registered in a free
 * class, offered a held seat in a ticketed one. Runs in the caller's transaction with the classroom row locked;
 * returns the promoted user ids, to announce after commit.
 */
export async function promoteWaitlisted(q: Db, classroom: Classroom, clock: SeatClock): Promise<string[]> {
  if (classroom.status !== 'scheduled' && classroom.status !== 'live') return [];
  const seats = classroom.capacity - (await countTaken(q, classroom.id, clock.now));
  if (seats <= 0) return [];
  const ticketed = classroom.price_minor > 0;
  const promoted = await q
    .updateTable('classroom_registrations')
    .set({
      status: ticketed ? 'held' : 'registered',
      hold_expires_at: ticketed ? new Date(clock.now.getTime() + clock.holdMinutes * 60_000) : null,
      order_id: null,
      updated_at: sql<Date>`clock_timestamp()`,
    })
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

/** After commit: each promoted learner hears it on every device (in a ticketed class: a seat is held for them). */
export async function announcePromoted(deps: Deps, classroom: Pick<Classroom, 'id' | 'title'>, userIds: readonly string[]): Promise<void> {
  if (!userIds.length) return;
  await deps.events.emit('classroom.registrations_promoted', { classroomId: classroom.id, title: classroom.title, userIds: [...userIds] });
}
