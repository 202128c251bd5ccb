import type { EntityManager } from '@mikro-orm/postgresql';
import { db, type Db } from '../../orm/db.ts';
import { checkClassroomAccess, ClassroomPolicy, loadClassroomAccess, type Classroom, type ClassroomAccess } from '../access/classroom.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError, isAppError } from '../shared/errors.ts';
import { rtcTokenFor } from './rtc.ts';
import { changeRoom, type RoomChange } from './state.ts';
import { assertLive } from './status.ts';

/**
 * Who may do a room action: `staff` (host and co-hosts), or `learner` — an admitted learner in the room (hands,
 * stage answers, poll answers are theirs; staff run the room instead).
 */
export type RoomActor = 'staff' | 'learner';

export interface RoomActionContext {
  q: Db;
  tx: EntityManager;
  classroom: Classroom;
  version: number;
  access: ClassroomAccess;
  now: Date;
}

/** Authorizes `actor` for a room action in the given transaction: not_found / forbidden, then `conflict` unless live. */
export async function authorizeRoomAction(q: Db, actor: Actor, classroomId: string, who: RoomActor, refusal?: string): Promise<ClassroomAccess> {
  const access = checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId), who === 'staff' ? 'staff' : 'participate');
  if (who === 'learner') {
    if (ClassroomPolicy.staff(actor, access)) throw new AppError('forbidden', refusal ?? 'Hosts and co-hosts run the room instead.');
    if (access.admission !== 'admitted') throw new AppError('forbidden', 'Join the class first.');
  }
  assertLive(access.classroom);
  return access;
}

/** A room change by a person: authorized inside the change's transaction (under the room lock), live classes only. */
export async function roomAction<T>(
  deps: Deps,
  actor: Actor,
  classroomId: string,
  who: RoomActor,
  change: (ctx: RoomActionContext) => Promise<RoomChange<T>>,
  refusal?: string,
): Promise<{ classroomId: string; version: number; result: T }> {
  const now = deps.clock.now();
  const { version, result } = await changeRoom(deps, classroomId, async ({ classroom, version, q, tx }) => {
    const access = await authorizeRoomAction(q, actor, classroomId, who, refusal);
    return change({ q, tx, classroom, version, access, now });
  });
  return { classroomId, version, result };
}

/** Someone other than the caller, as ClassroomPolicy sees them (no session: the rules look at roles and rows only). */
export async function subjectOf(q: Db, userId: string): Promise<Actor> {
  const user = await q.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst();
  return { userId, sessionId: '', role: user?.role ?? 'user' };
}

/**
 * After a stage change has committed: a video token for the user's role as it now stands (`classroom.video_role_changed`).
 * Skipped silently when video is not configured or the user may no longer have one.
 */
export async function pushRtcToken(deps: Deps, classroomId: string, userId: string): Promise<void> {
  if (!deps.classrooms.agora) return;
  let token;
  try {
    const q = db(deps.orm.em.fork());
    const subject = await subjectOf(q, userId);
    const access = await loadClassroomAccess(q, userId, classroomId);
    if (!access) return;
    token = await rtcTokenFor(deps.classrooms, q, subject, access, deps.clock.now());
  } catch (err) {
    if (isAppError(err)) return;
    deps.logger.warn({ err: String(err), classroomId, userId }, 'classrooms: pushing a video token failed');
    return;
  }
  await deps.events.emit('classroom.video_role_changed', { classroomId, userId, token });
}
