import type { ClassroomDto, RegistrationDto } from '../../contracts/classrooms.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf } from '../shared/sql.ts';
import { authorizeClassroom, checkClassroomAccess, loadClassroomAccess, type Classroom } from './access.ts';
import { evictFromRoom } from './eviction.ts';
import { loadClassroomDto, loadRegistrations } from './presenters.ts';
import { notifyPromoted, promoteWaitlisted } from './waitlist.ts';

export interface RegistrationOutcome {
  registration: RegistrationDto;
  classroom: ClassroomDto;
  /** False when the caller already held that registration (nothing changed). */
  changed: boolean;
}

/** Registration opens with the class and closes when it ends; ticketed classes wait for payments. */
function assertOpenForRegistration(classroom: Classroom): void {
  if (classroom.status === 'ended') throw new AppError('conflict', 'This class has ended.');
  if (classroom.status === 'cancelled') throw new AppError('conflict', 'This class was cancelled.');
}

/**
 * After commit: out of the room on every node (a no-op for someone not in it). The change that took their place away
 * has committed and the policies already refuse them, so a failure here is logged rather than failing the request.
 */
export async function evictAfterCommit(deps: Deps, classroomId: string, userId: string, reason: 'removed' | 'unregistered'): Promise<void> {
  try {
    await evictFromRoom(deps, classroomId, userId, reason);
  } catch (err) {
    deps.logger.warn({ err: String(err), classroomId, userId }, 'classrooms: taking someone out of the room failed');
  }
}

/**
 * Registers the caller, or puts them on the waitlist when the class is full. The classroom row is locked for the
 * count and the insert, so concurrent registrations never exceed the capacity. Registering again is a no-op.
 */
export async function register(deps: Deps, actor: Actor, classroomId: string): Promise<RegistrationOutcome> {
  const now = deps.clock.now();
  return deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const access = checkClassroomAccess(actor, await loadClassroomAccess(sql, actor.userId, classroomId, { lock: true }), 'register');
    const { classroom } = access;
    assertOpenForRegistration(classroom);
    if (classroom.priceMinor > 0) {
      throw new AppError('conflict', 'This is a ticketed class; ticket sales open with payments, so it cannot be registered for yet.');
    }
    const changed = access.registration !== 'registered' && access.registration !== 'waitlisted';
    if (changed) {
      const [taken] = await sql<{ n: number }>(
        `select count(*)::int as n from classroom_registrations where classroom_id = ? and status = 'registered'`,
        [classroomId],
      );
      const status = (taken?.n ?? 0) < classroom.capacity ? 'registered' : 'waitlisted';
      // A cancelled registration comes back at the end of the line: the waitlist counts from the latest registration.
      await sql(
        `insert into classroom_registrations (classroom_id, user_id, status, registered_at, updated_at)
         values (?, ?, ?, ?, clock_timestamp())
         on conflict (classroom_id, user_id) do update
           set status = excluded.status, registered_at = excluded.registered_at, updated_at = excluded.updated_at,
               attended = null, minutes_attended = null`,
        [classroomId, actor.userId, status, now],
      );
    }
    const [registration] = await loadRegistrations(sql, classroomId, actor.userId);
    return { registration: registration!, classroom: await loadClassroomDto(sql, actor.userId, classroomId), changed };
  });
}

/**
 * Cancels the caller's registration or waitlist place. A freed seat goes to the earliest waitlisted learner at once;
 * during the class the learner also leaves the room and its chat, on every node. Nothing to cancel changes nothing.
 */
export async function unregister(deps: Deps, actor: Actor, classroomId: string): Promise<ClassroomDto> {
  const { dto, classroom, promoted, cancelled } = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const access = checkClassroomAccess(actor, await loadClassroomAccess(sql, actor.userId, classroomId, { lock: true }), 'view');
    const { classroom } = access;
    const held = access.registration === 'registered' || access.registration === 'waitlisted';
    if (held) {
      assertOpenForRegistration(classroom);
      await sql(`update classroom_registrations set status = 'cancelled', updated_at = clock_timestamp() where classroom_id = ? and user_id = ?`, [
        classroomId,
        actor.userId,
      ]);
    }
    const promoted = access.registration === 'registered' ? await promoteWaitlisted(sql, classroom) : [];
    return { dto: await loadClassroomDto(sql, actor.userId, classroomId), classroom, promoted, cancelled: held };
  });
  notifyPromoted(deps, classroom, promoted);
  // Learners are in the room only while it is live.
  if (cancelled && classroom.status === 'live') await evictAfterCommit(deps, classroomId, actor.userId, 'unregistered');
  return dto;
}

/** The host's view: registered learners, the waitlist in order, and cancellations. */
export async function listRegistrations(deps: Deps, actor: Actor, classroomId: string): Promise<RegistrationDto[]> {
  const sql = sqlOf(deps.orm.em.fork());
  await authorizeClassroom(sql, actor, classroomId, 'manage');
  return loadRegistrations(sql, classroomId);
}
