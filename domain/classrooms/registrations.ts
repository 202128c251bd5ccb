import { sql } from 'kysely';
import type { ClassroomDto, RegistrationDto } from '../../contracts/classrooms.ts';
import { db } from '../../orm/db.ts';
import { authorizeClassroom, checkClassroomAccess, loadClassroomAccess } from '../access/classroom.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { evictAfterCommit } from './eviction.ts';
import { loadClassroomDto, loadRegistrations } from './presenters.ts';
import { assertNotOver } from './status.ts';
import { announcePromoted, countRegistered, promoteWaitlisted } from './waitlist.ts';

export interface RegistrationOutcome {
  registration: RegistrationDto;
  classroom: ClassroomDto;
  /** False when the caller already held that registration (nothing changed). */
  changed: boolean;
}

/**
 * Registers the caller, or puts them on the waitlist when the class is full. The classroom row is locked for the
 * count and the insert, so concurrent registrations never exceed the capacity. Registering again is a no-op.
 * Registration opens with the class and closes when it ends; ticketed classes wait for payments.
 */
export async function register(deps: Deps, actor: Actor, classroomId: string): Promise<RegistrationOutcome> {
  const now = deps.clock.now();
  return deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const access = checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId, { lock: true }), 'register');
    const { classroom } = access;
    assertNotOver(classroom);
    if (classroom.price_minor > 0) {
      throw new AppError('conflict', 'This is a ticketed class; ticket sales open with payments, so it cannot be registered for yet.');
    }
    const changed = access.registration !== 'registered' && access.registration !== 'waitlisted';
    if (changed) {
      const status = (await countRegistered(q, classroomId)) < classroom.capacity ? 'registered' : 'waitlisted';
      // A cancelled registration comes back at the end of the line: the waitlist counts from the latest registration.
      await q
        .insertInto('classroom_registrations')
        .values({ classroom_id: classroomId, user_id: actor.userId, status, registered_at: now, updated_at: sql<Date>`clock_timestamp()` })
        .onConflict((oc) =>
          oc.columns(['classroom_id', 'user_id']).doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            registered_at: eb.ref('excluded.registered_at'),
            updated_at: eb.ref('excluded.updated_at'),
            attended: null,
            minutes_attended: null,
          })),
        )
        .execute();
    }
    const [registration] = await loadRegistrations(q, classroomId, actor.userId);
    return { registration: registration!, classroom: await loadClassroomDto(q, actor.userId, classroomId), changed };
  });
}

/**
 * Cancels the caller's registration or waitlist place. A freed seat goes to the earliest waitlisted learner at once;
 * during the class the learner also leaves the room and its chat, on every node. Nothing to cancel changes nothing.
 */
export async function unregister(deps: Deps, actor: Actor, classroomId: string): Promise<ClassroomDto> {
  const { dto, classroom, promoted, cancelled } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const access = checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId, { lock: true }), 'view');
    const { classroom } = access;
    const held = access.registration === 'registered' || access.registration === 'waitlisted';
    if (held) {
      assertNotOver(classroom);
      await q
        .updateTable('classroom_registrations')
        .set({ status: 'cancelled', updated_at: sql<Date>`clock_timestamp()` })
        .where('classroom_id', '=', classroomId)
        .where('user_id', '=', actor.userId)
        .execute();
    }
    const promoted = access.registration === 'registered' ? await promoteWaitlisted(q, classroom) : [];
    return { dto: await loadClassroomDto(q, actor.userId, classroomId), classroom, promoted, cancelled: held };
  });
  await announcePromoted(deps, classroom, promoted);
  // Learners are in the room only while it is live.
  if (cancelled && classroom.status === 'live') await evictAfterCommit(deps, classroomId, actor.userId, 'unregistered');
  return dto;
}

/** The host's view: registered learners, the waitlist in order, and cancellations. */
export async function listRegistrations(deps: Deps, actor: Actor, classroomId: string): Promise<RegistrationDto[]> {
  const q = db(deps.orm.em.fork());
  await authorizeClassroom(q, actor, classroomId, 'manage');
  return loadRegistrations(q, classroomId);
}
