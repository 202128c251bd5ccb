import { sql } from 'kysely';
import type { Db } from '../../orm/db.ts';
import { loadHandQueue, loadParticipants, loadWaiting, type PatchFields } from './state.ts';

/** Which connections to drop: this socket's, everyone's on these nodes, or all of one user's. */
export type ConnectionFilter = { socketIds: readonly string[] } | { nodeIds: readonly string[] } | { userId: string };

/**
 * Removes connections inside a room change and applies what follows for each user left with none: their open
 * attendance interval ends now, they show as not present, and a learner still in the waiting room leaves it (the host
 * should not admit someone who is gone). `leaving` (an explicit leave rather than a dropped connection) also lowers
 * their hand and takes them off the stage; a network blip keeps both, so a reconnect finds the room as it was.
 * Returns the patch, or null when nobody's presence changed (another of their devices is still in).
 */
export async function dropConnections(
  q: Db,
  classroomId: string,
  filter: ConnectionFilter,
  now: Date,
  options: { leaving: boolean },
): Promise<PatchFields | null> {
  let drop = q.deleteFrom('classroom_connections').where('classroom_id', '=', classroomId);
  if ('socketIds' in filter) {
    if (!filter.socketIds.length) return null;
    drop = drop.where('socket_id', 'in', filter.socketIds);
  } else if ('nodeIds' in filter) {
    if (!filter.nodeIds.length) return null;
    drop = drop.where('node_id', 'in', filter.nodeIds);
  } else {
    drop = drop.where('user_id', '=', filter.userId);
  }
  const deleted = await drop.returning('user_id').execute();
  const users = [...new Set(deleted.map((r) => r.user_id))];
  if (!users.length) return null;
  const remaining = await q
    .selectFrom('classroom_connections')
    .select('user_id')
    .distinct()
    .where('classroom_id', '=', classroomId)
    .where('user_id', 'in', users)
    .execute();
  const stillHere = new Set(remaining.map((r) => r.user_id));
  const gone = users.filter((id) => !stillHere.has(id));
  if (!gone.length) return null;

  await closeAttendance(q, classroomId, gone, now);
  const unwaited = await q
    .deleteFrom('classroom_participants')
    .where('classroom_id', '=', classroomId)
    .where('user_id', 'in', gone)
    .where('admission', '=', 'waiting')
    .returning('user_id')
    .execute();
  let handsChanged = false;
  if (options.leaving) {
    // `was` is the row before the update: whether a hand went down decides whether the queue changed.
    const stepped = await q
      .updateTable('classroom_participants as p')
      .from('classroom_participants as was')
      .set({ hand_raised_at: null, hand_order: null, stage: 'none' })
      .where('p.classroom_id', '=', classroomId)
      .where('p.user_id', 'in', gone)
      .where((eb) => eb.or([eb('p.hand_raised_at', 'is not', null), eb('p.stage', '<>', 'none')]))
      .whereRef('was.classroom_id', '=', 'p.classroom_id')
      .whereRef('was.user_id', '=', 'p.user_id')
      .returning((eb) => eb('was.hand_raised_at', 'is not', null).$castTo<boolean>().as('had_hand'))
      .execute();
    handsChanged = stepped.some((r) => r.had_hand);
  }

  const patch: PatchFields = {};
  const participants = await loadParticipants(q, classroomId, gone);
  if (participants.length) patch.participants = participants;
  if (unwaited.length) patch.waiting = await loadWaiting(q, classroomId);
  if (handsChanged) patch.handQueue = await loadHandQueue(q, classroomId);
  return Object.keys(patch).length ? patch : null;
}

/** Ends the users' open attendance intervals now (never before they began, whatever the clock did). */
export async function closeAttendance(q: Db, classroomId: string, userIds: readonly string[], now: Date): Promise<number> {
  if (!userIds.length) return 0;
  const closed = await q
    .updateTable('classroom_attendance')
    .set({ left_at: sql<Date>`greatest(joined_at, ${now}::timestamptz)` })
    .where('classroom_id', '=', classroomId)
    .where('user_id', 'in', userIds)
    .where('left_at', 'is', null)
    .returning('id')
    .execute();
  return closed.length;
}

/** Opens the user's attendance interval unless one is open; true when this made them present. */
export async function openAttendance(q: Db, classroomId: string, userId: string, now: Date): Promise<boolean> {
  const opened = await q
    .insertInto('classroom_attendance')
    .values({ classroom_id: classroomId, user_id: userId, joined_at: now })
    .onConflict((oc) => oc.columns(['classroom_id', 'user_id']).where('left_at', 'is', null).doNothing())
    .returning('id')
    .execute();
  return opened.length > 0;
}

export async function recordConnection(
  q: Db,
  classroomId: string,
  connection: { socketId: string; nodeId: string; userId: string },
  now: Date,
): Promise<void> {
  await q
    .insertInto('classroom_connections')
    .values({ classroom_id: classroomId, socket_id: connection.socketId, user_id: connection.userId, node_id: connection.nodeId, connected_at: now })
    .onConflict((oc) => oc.columns(['classroom_id', 'socket_id']).doNothing())
    .execute();
}
