import { sql } from 'kysely';
import { db, type Db } from '../../orm/db.ts';
import type { Classroom } from '../access/classroom.ts';
import { grantEntitlement, isEntitled, revokeEntitlement } from '../access/entitlement.ts';
import { evictAfterCommit } from '../classrooms/eviction.ts';
import { assertNotOver } from '../classrooms/status.ts';
import { announcePromoted, countTaken, promoteWaitlisted, settleLapsedHolds, type SeatClock } from '../classrooms/waitlist.ts';
import type { Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { AfterCommit } from './afterCommit.ts';
import './events.ts';
import type { GrantContext, GrantHandler } from './grantHandler.ts';

/*
 * Paid classroom seats. A checkout holds a seat for its buyer while they pay (`held` until `hold_expires_at`, with the
 * order's id), so a full class never sells more tickets than it has seats; held seats count against the capacity
 * until their hold lapses. A seat offered to the first waitlisted learner (waitlist.ts) is held the same way, without
 * an order, and their checkout takes it over. Payment turns the held seat into a registration and writes the ticket
 * (a `classroom` entitlement); a checkout that fails or expires gives the seat to the waitlist; a refund takes the
 * ticket and the seat away (out of the live room on every node) and offers the seat to the next in line.
 */

const HOLD_FALLBACK_MINUTES = 30;

async function lockClassroom(q: Db, classroomId: string): Promise<Classroom | undefined> {
  return q.selectFrom('classrooms').selectAll().where('id', '=', classroomId).forUpdate().executeTakeFirst() as Promise<Classroom | undefined>;
}

/**
 * Called by the checkout inside its transaction: holds a seat of the class for the buyer until `until`. A seat already
 * held for them (the waitlist offered it, or an earlier checkout) is taken over; otherwise a seat must be free.
 * `at`: the checkout's time (the product clock), from which lapsed holds are told apart; defaults to now.
 */
export async function holdSeat(q: Db, input: { classroomId: string; userId: string; orderId: string; until: Date; at?: Date }): Promise<void> {
  const at = input.at ?? new Date();
  const classroom = await lockClassroom(q, input.classroomId);
  if (!classroom) throw new AppError('not_found', 'No such classroom.');
  assertNotOver(classroom);
  const mine = await q
    .selectFrom('classroom_registrations')
    .select(['status', 'hold_expires_at'])
    .where('classroom_id', '=', input.classroomId)
    .where('user_id', '=', input.userId)
    .executeTakeFirst();
  if (mine?.status === 'registered') throw new AppError('conflict', 'You already have a seat in this class.');
  const heldForMe = mine?.status === 'held' && mine.hold_expires_at !== null && mine.hold_expires_at > at;
  if (!heldForMe && (await countTaken(q, input.classroomId, at, input.userId)) >= classroom.capacity) {
    throw new AppError('conflict', 'This class is full: join the waitlist and you will be offered the next free seat.', { details: { waitlist: true } });
  }
  // A held or waitlisted learner keeps their place in line; anyone else is placed at the checkout's time.
  const keepsPlace = mine?.status === 'held' || mine?.status === 'waitlisted';
  await q
    .insertInto('classroom_registrations')
    .values({
      classroom_id: input.classroomId,
      user_id: input.userId,
      status: 'held',
      hold_expires_at: input.until,
      order_id: input.orderId,
      registered_at: at,
      updated_at: sql<Date>`clock_timestamp()`,
    })
    .onConflict((oc) =>
      oc.columns(['classroom_id', 'user_id']).doUpdateSet((eb) => ({
        status: 'held' as const,
        hold_expires_at: eb.ref('excluded.hold_expires_at'),
        order_id: eb.ref('excluded.order_id'),
        registered_at: keepsPlace ? eb.ref('classroom_registrations.registered_at') : eb.ref('excluded.registered_at'),
        updated_at: eb.ref('excluded.updated_at'),
        attended: null,
        minutes_attended: null,
      })),
    )
    .execute();
}

/** How long the checkout of `orderId` held its seat: the hold the next in line is offered. */
async function holdMinutesOf(q: Db, orderId: string): Promise<number> {
  const order = await q.selectFrom('orders').select(['created_at', 'expires_at']).where('id', '=', orderId).executeTakeFirst();
  if (!order) return HOLD_FALLBACK_MINUTES;
  return Math.max(1, Math.round((order.expires_at.getTime() - order.created_at.getTime()) / 60_000));
}

/**
 * A checkout that will not be paid (declined, failed, expired): its held seat is given up and offered to the first on
 * the waitlist (held for them in turn). Nothing held by that order changes nothing. `deps`, when given, announces the
 * offer after commit.
 */
export async function releaseSeat(q: Db, orderId: string, at: Date, deps?: Deps): Promise<AfterCommit[]> {
  const held = await q
    .selectFrom('classroom_registrations')
    .select(['classroom_id', 'user_id'])
    .where('order_id', '=', orderId)
    .where('status', '=', 'held')
    .executeTakeFirst();
  if (!held) return [];
  const classroom = await lockClassroom(q, held.classroom_id);
  if (!classroom) return [];
  const released = await q
    .updateTable('classroom_registrations')
    .set({ status: 'cancelled', hold_expires_at: null, updated_at: sql<Date>`clock_timestamp()` })
    .where('classroom_id', '=', held.classroom_id)
    .where('user_id', '=', held.user_id)
    .where('order_id', '=', orderId)
    .where('status', '=', 'held')
    .returning('user_id')
    .executeTakeFirst();
  if (!released) return [];
  const promoted = await promoteWaitlisted(q, classroom, { now: at, holdMinutes: deps?.commerce.checkoutHoldMinutes ?? (await holdMinutesOf(q, orderId)) });
  return deps && promoted.length ? [() => announcePromoted(deps, classroom, promoted)] : [];
}

/**
 * Periodic: seats offered to waitlisted learners who did not buy them in time go to the next in line (who is told).
 * Checkout holds are settled by their order's own expiry.
 */
export async function offerLapsedSeats(deps: Deps, now: Date): Promise<number> {
  const classes = await db(deps.orm.em.fork())
    .selectFrom('classroom_registrations as r')
    .innerJoin('classrooms as k', 'k.id', 'r.classroom_id')
    .select('r.classroom_id')
    .distinct()
    .where('r.status', '=', 'held')
    .where('r.order_id', 'is', null)
    .where('r.hold_expires_at', '<=', now)
    .where('k.status', 'in', ['scheduled', 'live'])
    .limit(500)
    .execute();
  let offered = 0;
  for (const { classroom_id } of classes) {
    const { classroom, promoted } = await deps.orm.em.fork().transactional(async (tx) => {
      const q = db(tx);
      const classroom = await lockClassroom(q, classroom_id);
      if (!classroom) return { classroom, promoted: [] as string[] };
      return { classroom, promoted: await settleLapsedHolds(q, classroom, { now, holdMinutes: deps.commerce.checkoutHoldMinutes }) };
    });
    if (classroom) await announcePromoted(deps, classroom, promoted);
    offered += promoted.length;
  }
  return offered;
}

const announce = (deps: Deps, event: 'entitlement.granted' | 'entitlement.revoked', ctx: GrantContext): AfterCommit => () =>
  deps.events.emit(event, { userId: ctx.userId, resourceType: 'classroom', resourceId: ctx.resourceId, orderId: ctx.order.id });

/**
 * The ticket of a paid order: the `classroom` entitlement and the seat. The seat held for this order becomes a
 * registration; if the hold had lapsed or been released (the money arrived late) the buyer is seated anyway, even
 * over the capacity: a buyer who paid is never turned away.
 */
export const classroomGrantHandler: GrantHandler = {
  async grant(deps, q, ctx) {
    await grantEntitlement(q, {
      userId: ctx.userId,
      resource: { type: 'classroom', id: ctx.resourceId },
      source: 'order',
      orderId: ctx.order.id,
      at: ctx.at,
    });
    const classroom = await lockClassroom(q, ctx.resourceId);
    if (!classroom) return [announce(deps, 'entitlement.granted', ctx)];
    const mine = await q
      .selectFrom('classroom_registrations')
      .select(['status', 'order_id', 'hold_expires_at'])
      .where('classroom_id', '=', ctx.resourceId)
      .where('user_id', '=', ctx.userId)
      .executeTakeFirst();
    if (mine?.status !== 'registered') {
      const heldForThisOrder = mine?.status === 'held' && mine.order_id === ctx.order.id;
      if (!heldForThisOrder && (await countTaken(q, ctx.resourceId, ctx.at, ctx.userId)) >= classroom.capacity) {
        deps.logger.warn(
          { classroomId: ctx.resourceId, userId: ctx.userId, orderId: ctx.order.id },
          'classroom seats: a payment arrived after its hold ended and the class is full; seating the buyer over capacity',
        );
      }
      await q
        .insertInto('classroom_registrations')
        .values({
          classroom_id: ctx.resourceId,
          user_id: ctx.userId,
          status: 'registered',
          order_id: ctx.order.id,
          hold_expires_at: null,
          registered_at: ctx.at,
          updated_at: sql<Date>`clock_timestamp()`,
        })
        .onConflict((oc) =>
          oc.columns(['classroom_id', 'user_id']).doUpdateSet((eb) => ({
            status: 'registered' as const,
            order_id: eb.ref('excluded.order_id'),
            hold_expires_at: null,
            updated_at: eb.ref('excluded.updated_at'),
            registered_at: heldForThisOrder ? eb.ref('classroom_registrations.registered_at') : eb.ref('excluded.registered_at'),
          })),
        )
        .execute();
    }
    return [announce(deps, 'entitlement.granted', ctx)];
  },

  /** A refund or a lost dispute: the ticket and the seat go, the seat is offered to the waitlist, the room is left. */
  async revoke(deps, q, ctx) {
    const revoked = await revokeEntitlement(q, ctx.userId, { type: 'classroom', id: ctx.resourceId }, ctx.at, { orderId: ctx.order.id });
    if (!revoked) return [];
    const after: AfterCommit[] = [announce(deps, 'entitlement.revoked', ctx)];
    const otherTicket = await isEntitled(q, ctx.userId, { type: 'classroom', id: ctx.resourceId });
    if (otherTicket) return after;
    const classroom = await lockClassroom(q, ctx.resourceId);
    if (!classroom) return after;
    const cancelled = await q
      .updateTable('classroom_registrations')
      .set({ status: 'cancelled', hold_expires_at: null, updated_at: sql<Date>`clock_timestamp()` })
      .where('classroom_id', '=', ctx.resourceId)
      .where('user_id', '=', ctx.userId)
      .where('status', 'in', ['registered', 'held'])
      .returning('status')
      .executeTakeFirst();
    if (!cancelled) return after;
    const clock: SeatClock = { now: ctx.at, holdMinutes: deps.commerce.checkoutHoldMinutes };
    const promoted = await promoteWaitlisted(q, classroom, clock);
    return [
      async () => {
        await announcePromoted(deps, classroom, promoted);
        if (classroom.status === 'live') await evictAfterCommit(deps, classroom.id, ctx.userId, 'unregistered');
      },
      ...after,
    ];
  },
};
