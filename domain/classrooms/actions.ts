import type { EntityManager } from '@mikro-orm/postgresql';
import { rooms } from '../../contracts/realtime.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError, isAppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { assertLive, checkClassroomAccess, ClassroomPolicy, loadClassroomAccess, type Classroom, type ClassroomAccess } from './access.ts';
import { rtcTokenFor } from './rtc.ts';
import { changeRoom, type RoomChange } from './state.ts';

/**
 * Who may do a room action: `staff` (host and co-hosts), or `learner` — an admitted learner in the room (hands,
 * stage answers, poll answers are theirs; staff run the room instead).
 */
export type RoomActor = 'staff' | 'learner';

export interface RoomActionContext {
  sql: Sql;
  tx: EntityManager;
  classroom: Classroom;
  version: number;
  access: ClassroomAccess;
  now: Date;
}

/** Authorizes `actor` for a room action in the given transaction: not_found / forbidden, then `conflict` unless live. */
export async function authorizeRoomAction(sql: Sql, actor: Actor, classroomId: string, who: RoomActor, refusal?: string): Promise<ClassroomAccess> {
  const access = checkClassroomAccess(actor, await loadClassroomAccess(sql, actor.userId, classroomId), who === 'staff' ? 'staff' : 'participate');
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
  const { version, result } = await changeRoom(deps, classroomId, async (tx, { classroom, version, sql }) => {
    const access = await authorizeRoomAction(sql, actor, classroomId, who, refusal);
    return change({ sql, tx, classroom, version, access, now });
  });
  return { classroomId, version, result };
}

/** Someone other than the caller, as ClassroomPolicy sees them (no session: the rules look at roles and rows only). */
export async function subjectOf(sql: Sql, userId: string): Promise<Actor> {
  const [user] = await sql<{ role: Actor['role'] }>('select role from users where id = ?', [userId]);
  return { userId, sessionId: '', role: user?.role ?? 'user' };
}

/**
 * After a stage change has committed: a video token for the user's role as it now stands, to their user room
 * (`classroom:token`). Skipped silently when video is not configured or the user may no longer have one.
 */
export async function pushRtcToken(deps: Deps, classroomId: string, userId: string): Promise<void> {
  if (!deps.classrooms.agora) return;
  try {
    const sql = sqlOf(deps.orm.em.fork());
    const subject = await subjectOf(sql, userId);
    const access = await loadClassroomAccess(sql, userId, classroomId);
    if (!access) return;
    const token = await rtcTokenFor(deps.classrooms, sql, subject, access, deps.clock.now());
    deps.publisher.toRoom(rooms.user(userId), 'classroom:token', { ...token, classroomId });
  } catch (err) {
    if (isAppError(err)) return;
    deps.logger.warn({ err: String(err), classroomId, userId }, 'classrooms: pushing a video token failed');
  }
}
