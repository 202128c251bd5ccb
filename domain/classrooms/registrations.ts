import { sql } from 'kysely';
import type { ClassroomDto, RegistrationDto } from '../../contracts/classrooms.ts';
import { db, type Db } from '../../orm/db.ts';
import { authorizeClassroom, checkClassroomAccess, loadClassroomAccess } from '../access/classroom.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { evictAfterCommit } from './eviction.ts';
import { loadClassroomDto, loadRegistrations } from './presenters.ts';
import { assertNotOver } from './status.ts';
import { announcePromoted, countTaken, promoteWaitlisted, seatClockOf, settleLapsedHolds } from './waitlist.ts';

export interface RegistrationOutcome {
  registration: RegistrationDto;
  classroom: ClassroomDto;
  /** False when the caller already held that registration (nothing changed). */
  changed: boolean;
}

/**
 * Registers the caller, or puts them on the waitlist when the class is full. The classroom row is locked for the
 * count and the insert, so concurrent registrations never exceed the capacity (seats held for buyers count as taken).
 * Registering again is a no-op. Registration opens with the class and closes when it ends.
 *
 * A ticketed class takes a ticket: a learner holding one (an active `classroom` entitlement) takes a free seat; without
 * one they buy it through checkout, which holds the seat while they pay. When the class is full anyone may join its
 * waitlist for free: the first in line is offered the next free seat, held for them while they buy it.
 */
export async function register(deps: Deps, actor: Actor, classroomId: string): Promise<RegistrationOutcome> {
  const clock = seatClockOf(deps);
  const now = clock.now;
  const { outcome, classroom, promoted } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const access = checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId, { lock: true }), 'register');
    const { classroom } = access;
    assertNotOver(classroom);
    const promoted = await settleLapsedHolds(q, classroom, clock);
    // Re-read: the lapse may have cancelled the caller's own offered seat.
    const current = await q
      .selectFrom('classroom_registrations')
      .select('status')
      .where('classroom_id', '=', classroomId)
      .where('user_id', '=', actor.userId)
      .executeTakeFirst();
    const standing = current?.status ?? null;
    const ticketed = classroom.price_minor > 0;
    const ticket = ticketed && (await holdsTicket(q, actor.userId, classroomId));
    const full = (await countTaken(q, classroomId, now, actor.userId)) >= classroom.capacity;
    let status: 'registered' | 'waitlisted' | null;
    if (standing === 'registered') status = null;
    else if (ticketed && !ticket) {
      if (standing === 'waitlisted' || standing === 'held') status = null;
      else if (full) status = 'waitlisted';
      else throw new AppError('conflict', 'Buy a ticket to register for this class.', { details: { classroomId, ticketed: true } });
    } else if (standing === 'held') status = 'registered';
    else if (standing === 'waitlisted') status = full ? null : 'registered';
    else status = full ? 'waitlisted' : 'registered';
    if (status) {
      // A cancelled registration comes back at the end of the line: the waitlist counts from the latest registration.
      // A held seat taken over or a waitlist place turned into a seat keeps its registered_at.
      const keepsPlace = standing === 'held' || standing === 'waitlisted';
      await q
        .insertInto('classroom_registrations')
        .values({
          classroom_id: classroomId,
          user_id: actor.userId,
          status,
          registered_at: now,
          updated_at: sql<Date>`clock_timestamp()`,
          hold_expires_at: null,
        })
        .onConflict((oc) =>
          oc.columns(['classroom_id', 'user_id']).doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            registered_at: keepsPlace ? eb.ref('classroom_registrations.registered_at') : eb.ref('excluded.registered_at'),
            updated_at: eb.ref('excluded.updated_at'),
            hold_expires_at: null,
            attended: null,
            minutes_attended: null,
          })),
        )
        .execute();
    }
    const [registration] = await loadRegistrations(q, classroomId, actor.userId);
    const outcome = { registration: registration!, classroom: await loadClassroomDto(q, actor.userId, classroomId), changed: status !== null };
    return { outcome, classroom, promoted };
  });
  await announcePromoted(deps, classroom, promoted);
  return outcome;
}

/** An active ticket (a `classroom` entitlement: bought, or granted by staff). */
async function holdsTicket(q: Db, userId: string, classroomId: string): Promise<boolean> {
  const row = await q
    .selectFrom('entitlements')
    .select('id')
    .where('user_id', '=', userId)
    .where('resource_type', '=', 'classroom')
    .where('resource_id', '=', classroomId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Cancels the caller's registration or waitlist place. A freed seat goes to the earliest waitlisted learner at once;
 * during the class the learner also leaves the room and its chat, on every node. Nothing to cancel changes nothing.
 */
export async function unregister(deps: Deps, actor: Actor, classroomId: string): Promise<ClassroomDto> {
  const { dto, classroom, promoted, cancelled, wasSeated } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const access = checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId, { lock: true }), 'view');
    const { classroom } = access;
    const held = access.registration === 'registered' || access.registration === 'waitlisted' || access.registration === 'held';
    if (held) {
      assertNotOver(classroom);
      await q
        .updateTable('classroom_registrations')
        .set({ status: 'cancelled', hold_expires_at: null, updated_at: sql<Date>`clock_timestamp()` })
        .where('classroom_id', '=', classroomId)
        .where('user_id', '=', actor.userId)
        .execute();
    }
    const freed = access.registration === 'registered' || access.registration === 'held';
    const promoted = freed ? await promoteWaitlisted(q, classroom, seatClockOf(deps)) : [];
    return { dto: await loadClassroomDto(q, actor.userId, classroomId), classroom, promoted, cancelled: held, wasSeated: access.registration !== 'held' };
  });
  await announcePromoted(deps, classroom, promoted);
  // Learners are in the room only while it is live.
  if (cancelled && wasSeated && classroom.status === 'live') await evictAfterCommit(deps, classroomId, actor.userId, 'unregistered');
  return dto;
}

/** The host's view: registered learners, the waitlist in order, and cancellations. */
export async function listRegistrations(deps: Deps, actor: Actor, classroomId: string): Promise<RegistrationDto[]> {
  const q = db(deps.orm.em.fork());
  await authorizeClassroom(q, actor, classroomId, 'manage');
  return loadRegistrations(q, classroomId);
}
