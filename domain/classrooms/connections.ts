import type { Sql } from '../shared/sql.ts';
import { loadHandQueue, loadParticipants, loadWaiting, type PatchFields } from './state.ts';

/** Which connections to drop: this socket's, everyone's on these nodes, or all of one user's. */
export type ConnectionFilter = { socketIds: readonly string[] } | { nodeIds: readonly string[] } | { userId: string };

function where(filter: ConnectionFilter): [string, unknown] {
  if ('socketIds' in filter) return ['socket_id = any(?::text[])', filter.socketIds];
  if ('nodeIds' in filter) return ['node_id = any(?::text[])', filter.nodeIds];
  return ['user_id = ?', filter.userId];
}

/**
 * Removes connections inside a room change and applies what follows for each user left with none: their open
 * attendance interval ends now, they show as not present, and a learner still in the waiting room leaves it (the host
 * should not admit someone who is gone). `leaving` (an explicit leave rather than a dropped connection) also lowers
 * their hand and takes them off the stage; a network blip keeps both, so a reconnect finds the room as it was.
 * Returns the patch, or null when nobody's presence changed (another of their devices is still in).
 */
export async function dropConnections(
  sql: Sql,
  classroomId: string,
  filter: ConnectionFilter,
  now: Date,
  options: { leaving: boolean },
): Promise<PatchFields | null> {
  const [condition, param] = where(filter);
  const deleted = await sql<{ user_id: string }>(
    `delete from classroom_connections where classroom_id = ? and ${condition} returning user_id`,
    [classroomId, param],
  );
  const users = [...new Set(deleted.map((r) => r.user_id))];
  if (!users.length) return null;
  const remaining = await sql<{ user_id: string }>(
    'select distinct user_id from classroom_connections where classroom_id = ? and user_id = any(?::uuid[])',
    [classroomId, users],
  );
  const stillHere = new Set(remaining.map((r) => r.user_id));
  const gone = users.filter((id) => !stillHere.has(id));
  if (!gone.length) return null;

  await closeAttendance(sql, classroomId, gone, now);
  const unwaited = await sql<{ user_id: string }>(
    `delete from classroom_participants where classroom_id = ? and user_id = any(?::uuid[]) and admission = 'waiting'
     returning user_id`,
    [classroomId, gone],
  );
  let handsChanged = false;
  if (options.leaving) {
    const stepped = await sql<{ had_hand: boolean }>(
      `update classroom_participants p set hand_raised_at = null, hand_order = null, stage = 'none'
       from classroom_participants was
       where p.classroom_id = ? and p.user_id = any(?::uuid[]) and (p.hand_raised_at is not null or p.stage <> 'none')
         and was.classroom_id = p.classroom_id and was.user_id = p.user_id
       returning was.hand_raised_at is not null as had_hand`,
      [classroomId, gone],
    );
    handsChanged = stepped.some((r) => r.had_hand);
  }

  const patch: PatchFields = {};
  const participants = await loadParticipants(sql, classroomId, gone);
  if (participants.length) patch.participants = participants;
  if (unwaited.length) patch.waiting = await loadWaiting(sql, classroomId);
  if (handsChanged) patch.handQueue = await loadHandQueue(sql, classroomId);
  return Object.keys(patch).length ? patch : null;
}

/** Ends the users' open attendance intervals now (never before they began, whatever the clock did). */
export async function closeAttendance(sql: Sql, classroomId: string, userIds: readonly string[], now: Date): Promise<number> {
  if (!userIds.length) return 0;
  const closed = await sql<{ id: string }>(
    `update classroom_attendance set left_at = greatest(joined_at, ?::timestamptz)
     where classroom_id = ? and user_id = any(?::uuid[]) and left_at is null returning id`,
    [now, classroomId, userIds],
  );
  return closed.length;
}

/** Opens the user's attendance interval unless one is open; true when this made them present. */
export async function openAttendance(sql: Sql, classroomId: string, userId: string, now: Date): Promise<boolean> {
  const opened = await sql<{ id: string }>(
    `insert into classroom_attendance (classroom_id, user_id, joined_at) values (?, ?, ?)
     on conflict (classroom_id, user_id) where left_at is null do nothing returning id`,
    [classroomId, userId, now],
  );
  return opened.length > 0;
}

export async function recordConnection(
  sql: Sql,
  classroomId: string,
  connection: { socketId: string; nodeId: string; userId: string },
  now: Date,
): Promise<void> {
  await sql(
    `insert into classroom_connections (classroom_id, socket_id, user_id, node_id, connected_at) values (?, ?, ?, ?, ?)
     on conflict (classroom_id, socket_id) do nothing`,
    [classroomId, connection.socketId, connection.userId, connection.nodeId, now],
  );
}
