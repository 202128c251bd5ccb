import type { JoinClassroomResult } from '../../contracts/classrooms.ts';
import { db, type Db } from '../../orm/db.ts';
import { checkClassroomAccess, ClassroomPolicy, loadClassroomAccess } from '../access/classroom.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { dropConnections, openAttendance, recordConnection } from './connections.ts';
import { changeRoom, loadRoomState, loadWaiting, participantsPatch, type PatchFields } from './state.ts';
import { assertLive } from './status.ts';

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
  const access = await loadClassroomAccess(db(deps.orm.em.fork()), actor.userId, classroomId);
  if (!access || !ClassroomPolicy.view(actor, access) || !ClassroomPolicy.enter(actor, access)) return { room: false, staff: false };
  const staff = ClassroomPolicy.staff(actor, access);
  return { room: staff || !access.classroom.waiting_room || access.admission === 'admitted', staff };
}

/**
 * `classroom:join`: records this socket in the room. The first device of a user opens an attendance interval and shows
 * them present; a learner's first entry puts them on the roster and in the class chat. In a waiting-room class a
 * learner the host has not admitted waits instead (no snapshot). Host and co-hosts may come in before the start.
 */
export async function joinRoom(deps: Deps, actor: Actor, classroomId: string, connection: RoomConnection): Promise<JoinOutcome> {
  const now = deps.clock.now();
  const { result } = await changeRoom(deps, classroomId, async ({ classroom, version, q }) => {
    const access = checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId), 'enter');
    const staff = ClassroomPolicy.staff(actor, access);
    if (!(staff && classroom.status === 'scheduled')) assertLive(classroom);
    await recordConnection(q, classroomId, { ...connection, userId: actor.userId }, now);

    if (!staff && classroom.waiting_room && access.admission !== 'admitted') {
      const waiting: JoinOutcome = { result: { admitted: false, waiting: true }, staff };
      if (access.admission === 'waiting') return { patch: null, result: waiting };
      await q
        .insertInto('classroom_participants')
        .values({ classroom_id: classroomId, user_id: actor.userId, admission: 'waiting', waiting_since: now })
        .onConflict((oc) => oc.columns(['classroom_id', 'user_id']).doNothing())
        .execute();
      return { patch: { waiting: await loadWaiting(q, classroomId) }, result: waiting };
    }

    const patch: PatchFields = {};
    let changed = false;
    if (access.admission !== 'admitted') {
      // Also the learner still waiting when the host turned the waiting room off.
      await q
        .insertInto('classroom_participants')
        .values({ classroom_id: classroomId, user_id: actor.userId, admission: 'admitted' })
        .onConflict((oc) => oc.columns(['classroom_id', 'user_id']).doUpdateSet({ admission: 'admitted', waiting_since: null }))
        .execute();
      if (access.admission === 'waiting') patch.waiting = await loadWaiting(q, classroomId);
      changed = true;
    }
    await joinClassChat(q, classroom.channel_id, actor.userId);
    if (await openAttendance(q, classroomId, actor.userId, now)) changed = true;
    if (changed) Object.assign(patch, await participantsPatch(q, classroomId, [actor.userId]));
    // No change (another device of someone already here): the snapshot is of the version before this one.
    const state = await loadRoomState(q, { ...classroom, state_version: changed ? version : version - 1 }, now);
    const outcome: JoinOutcome = { result: { admitted: true, state, myAnswers: await loadMyAnswers(q, classroomId, actor.userId) }, staff };
    return { patch: changed ? patch : null, result: outcome };
  });
  return result;
}

/** The caller's answers in this class, by poll id. */
async function loadMyAnswers(q: Db, classroomId: string, userId: string): Promise<Record<string, number[]>> {
  const rows = await q
    .selectFrom('classroom_poll_answers as a')
    .innerJoin('classroom_polls as p', 'p.id', 'a.poll_id')
    .select(['a.poll_id', 'a.options'])
    .where('p.classroom_id', '=', classroomId)
    .where('a.user_id', '=', userId)
    .execute();
  return Object.fromEntries(rows.map((r) => [r.poll_id, r.options]));
}

/**
 * `classroom:leave`: this socket leaves. When it was the user's last device in the room they are no longer present,
 * their hand goes down and they step off the stage. Leaving a room one is not in is a no-op.
 */
export async function leaveRoom(deps: Deps, classroomId: string, socketId: string): Promise<number> {
  const now = deps.clock.now();
  const { version } = await changeRoom(deps, classroomId, async ({ q }) => ({
    patch: await dropConnections(q, classroomId, { socketIds: [socketId] }, now, { leaving: true }),
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
  await changeRoom(deps, classroomId, async ({ q }) => ({
    patch: await dropConnections(q, classroomId, { socketIds }, now, { leaving: false }),
    result: null,
  }));
}

/** Removes every connection held by these nodes, room by room: a graceful shutdown, or the sweep after a node died. */
export async function removeNodeConnections(deps: Deps, nodeIds: readonly string[]): Promise<void> {
  if (!nodeIds.length) return;
  const classrooms = await db(deps.orm.em.fork())
    .selectFrom('classroom_connections')
    .select('classroom_id')
    .distinct()
    .where('node_id', 'in', nodeIds)
    .execute();
  for (const { classroom_id: classroomId } of classrooms) {
    const now = deps.clock.now();
    await changeRoom(deps, classroomId, async ({ q }) => ({
      patch: await dropConnections(q, classroomId, { nodeIds }, now, { leaving: false }),
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
  const rows = await db(deps.orm.em.fork()).selectFrom('classroom_connections').select('node_id').distinct().execute();
  if (!rows.length) return [];
  const alive = await aliveNodes(rows.map((r) => r.node_id));
  const dead = rows.map((r) => r.node_id).filter((id) => !alive.has(id));
  await removeNodeConnections(deps, dead);
  return dead;
}

/** This node's connections as the database has them (to find any a sweep removed while the node was alive). */
export async function connectionsOfNode(deps: Deps, nodeId: string): Promise<Set<string>> {
  const rows = await db(deps.orm.em.fork())
    .selectFrom('classroom_connections')
    .select(['classroom_id', 'socket_id'])
    .where('node_id', '=', nodeId)
    .execute();
  return new Set(rows.map((r) => `${r.classroom_id} ${r.socket_id}`));
}

/** Into the class chat (a no-op for someone already in it). */
export async function joinClassChat(q: Db, channelId: string, userId: string): Promise<void> {
  await q
    .insertInto('channel_members')
    .values({ channel_id: channelId, user_id: userId })
    .onConflict((oc) => oc.doNothing())
    .execute();
}
