import type { JoinClassroomResult } from '../../contracts/classrooms.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { assertLive, checkClassroomAccess, ClassroomPolicy, loadClassroomAccess } from './access.ts';
import { dropConnections, openAttendance, recordConnection } from './connections.ts';
import { changeRoom, loadRoomState, loadWaiting, participantsPatch, type PatchFields } from './state.ts';

/** A socket in a room, and the node holding it (so a dead node's connections can be found). */
export interface RoomConnection {
  socketId: string;
  nodeId: string;
}

export interface JoinOutcome {
  result: JoinClassroomResult;
  /** Host or co-host: the socket belongs in the staff room too (live poll results). */
  staff: boolean;
}

/**
 * Which rooms the socket will most likely belong in, read without the room lock: the socket joins them before
 * `joinRoom` takes its snapshot, so no patch published in between is missed. `joinRoom` decides; a socket that
 * turns out to belong elsewhere is moved afterwards.
 */
export async function expectedRooms(deps: Deps, actor: Actor, classroomId: string): Promise<{ room: boolean; staff: boolean }> {
  const access = await loadClassroomAccess(sqlOf(deps.orm.em.fork()), actor.userId, classroomId);
  if (!access || !ClassroomPolicy.view(actor, access) || !ClassroomPolicy.enter(actor, access)) return { room: false, staff: false };
  const staff = ClassroomPolicy.staff(actor, access);
  return { room: staff || !access.classroom.waitingRoom || access.admission === 'admitted', staff };
}

/**
 * `classroom:join`: records this socket in the room. The first device of a user opens an attendance interval and shows
 * them present; a learner's first entry puts them on the roster and in the class chat. In a waiting-room class a
 * learner the host has not admitted waits instead (no snapshot). Host and co-hosts may come in before the start.
 */
export async function joinRoom(deps: Deps, actor: Actor, classroomId: string, connection: RoomConnection): Promise<JoinOutcome> {
  const now = deps.clock.now();
  const { result } = await changeRoom(deps, classroomId, async (_tx, { classroom, version, sql }) => {
    const access = checkClassroomAccess(actor, await loadClassroomAccess(sql, actor.userId, classroomId), 'enter');
    const staff = ClassroomPolicy.staff(actor, access);
    if (!(staff && classroom.status === 'scheduled')) assertLive(classroom);
    await recordConnection(sql, classroomId, { ...connection, userId: actor.userId }, now);

    if (!staff && classroom.waitingRoom && access.admission !== 'admitted') {
      const waiting: JoinOutcome = { result: { admitted: false, waiting: true }, staff };
      if (access.admission === 'waiting') return { patch: null, result: waiting };
      await sql(
        `insert into classroom_participants (classroom_id, user_id, admission, waiting_since) values (?, ?, 'waiting', ?)
         on conflict (classroom_id, user_id) do nothing`,
        [classroomId, actor.userId, now],
      );
      return { patch: { waiting: await loadWaiting(sql, classroomId) }, result: waiting };
    }

    const patch: PatchFields = {};
    let changed = false;
    if (access.admission !== 'admitted') {
      // Also the learner still waiting when the host turned the waiting room off.
      await sql(
        `insert into classroom_participants (classroom_id, user_id, admission) values (?, ?, 'admitted')
         on conflict (classroom_id, user_id) do update set admission = 'admitted', waiting_since = null`,
        [classroomId, actor.userId],
      );
      if (access.admission === 'waiting') patch.waiting = await loadWaiting(sql, classroomId);
      changed = true;
    }
    await sql('insert into channel_members (channel_id, user_id) values (?, ?) on conflict do nothing', [classroom.channelId, actor.userId]);
    if (await openAttendance(sql, classroomId, actor.userId, now)) changed = true;
    if (changed) Object.assign(patch, await participantsPatch(sql, classroomId, [actor.userId]));
    // No change (another device of someone already here): the snapshot is of the version before this one.
    const state = await loadRoomState(sql, { ...classroom, stateVersion: changed ? version : version - 1 }, now);
    const outcome: JoinOutcome = { result: { admitted: true, state, myAnswers: await loadMyAnswers(sql, classroomId, actor.userId) }, staff };
    return { patch: changed ? patch : null, result: outcome };
  });
  return result;
}

/** The caller's answers in this class, by poll id. */
async function loadMyAnswers(sql: Sql, classroomId: string, userId: string): Promise<Record<string, number[]>> {
  const rows = await sql<{ poll_id: string; options: number[] }>(
    `select a.poll_id, a.options from classroom_poll_answers a join classroom_polls p on p.id = a.poll_id
     where p.classroom_id = ? and a.user_id = ?`,
    [classroomId, userId],
  );
  return Object.fromEntries(rows.map((r) => [r.poll_id, r.options]));
}

/**
 * `classroom:leave`: this socket leaves. When it was the user's last device in the room they are no longer present,
 * their hand goes down and they step off the stage. Leaving a room one is not in is a no-op.
 */
export async function leaveRoom(deps: Deps, classroomId: string, socketId: string): Promise<number> {
  const now = deps.clock.now();
  const { version } = await changeRoom(deps, classroomId, async (_tx, { sql }) => ({
    patch: await dropConnections(sql, classroomId, { socketIds: [socketId] }, now, { leaving: true }),
    result: null,
  }));
  return version;
}

/**
 * Sockets dropped: like leaving, but hands and stage stay for a reconnect (attendance still records the gap). Takes
 * several sockets at once, so a crowd losing its connection together is one change rather than a queue of them.
 */
export async function disconnectFromRoom(deps: Deps, classroomId: string, socketIds: readonly string[]): Promise<void> {
  const now = deps.clock.now();
  await changeRoom(deps, classroomId, async (_tx, { sql }) => ({
    patch: await dropConnections(sql, classroomId, { socketIds }, now, { leaving: false }),
    result: null,
  }));
}

/** Removes every connection held by these nodes, room by room: a graceful shutdown, or the sweep after a node died. */
export async function removeNodeConnections(deps: Deps, nodeIds: readonly string[]): Promise<void> {
  if (!nodeIds.length) return;
  const sql = sqlOf(deps.orm.em.fork());
  const classrooms = await sql<{ classroom_id: string }>(
    'select distinct classroom_id from classroom_connections where node_id = any(?::text[])',
    [nodeIds],
  );
  for (const { classroom_id: classroomId } of classrooms) {
    const now = deps.clock.now();
    await changeRoom(deps, classroomId, async (_tx, room) => ({
      patch: await dropConnections(room.sql, classroomId, { nodeIds }, now, { leaving: false }),
      result: null,
    }));
  }
}

/**
 * Connections whose node is no longer alive (killed without a graceful shutdown) are removed, with their users'
 * attendance closed at the time of the sweep. `aliveNodes` is the presence store's liveness; when it cannot answer
 * this throws and nothing is removed.
 */
export async function sweepDeadConnections(
  deps: Deps,
  aliveNodes: (nodeIds: readonly string[]) => Promise<Set<string>>,
): Promise<string[]> {
  const rows = await sqlOf(deps.orm.em.fork())<{ node_id: string }>('select distinct node_id from classroom_connections');
  if (!rows.length) return [];
  const alive = await aliveNodes(rows.map((r) => r.node_id));
  const dead = rows.map((r) => r.node_id).filter((id) => !alive.has(id));
  await removeNodeConnections(deps, dead);
  return dead;
}

/** This node's connections as the database has them (to find any a sweep removed while the node was alive). */
export async function connectionsOfNode(deps: Deps, nodeId: string): Promise<Set<string>> {
  const rows = await sqlOf(deps.orm.em.fork())<{ classroom_id: string; socket_id: string }>(
    'select classroom_id, socket_id from classroom_connections where node_id = ?',
    [nodeId],
  );
  return new Set(rows.map((r) => `${r.classroom_id} ${r.socket_id}`));
}
