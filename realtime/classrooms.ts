import { rooms } from '../contracts/realtime.ts';
import { connectionsOfNode, disconnectFromRoom, joinRoom, removeNodeConnections, sweepDeadConnections } from '../domain/classrooms/room.ts';
import { closeExpiredPoll, closeOverduePolls } from '../domain/classrooms/polls.ts';
import type { PresenceStore } from '../domain/presence/store.ts';
import type { Actor, Deps } from '../domain/shared/deps.ts';
import { AppError } from '../domain/shared/errors.ts';
import { withTimeout } from '../domain/shared/time.ts';
import type { IoSocket } from './types.ts';

/** Shutdown does not wait longer than this on an unreachable database; the other nodes' sweeps clean up instead. */
const CLOSE_BUDGET_MS = 3000;

/**
 * One node's share of live classrooms. All room state lives in PostgreSQL; this keeps only what a node must: which
 * rooms each local socket joined (to clean up when it drops), timers that close time-limited polls on time, and a
 * periodic sweep for connections left by nodes that died and polls nobody closed.
 */
export interface ClassroomRooms {
  readonly deps: Deps;
  readonly nodeId: string;
  /** Refuses new joins while the node shuts down. */
  assertOpen(): void;
  /** Runs a join so that shutdown waits for it; remembers the socket is (possibly) in the room. */
  joining<T>(socket: IoSocket, classroomId: string, work: () => Promise<T>): Promise<T>;
  /** Forgets a room for a socket that left it (or was refused before it was ever in). */
  forget(socket: IoSocket, classroomId: string): void;
  /** Closes a time-limited poll at its end. */
  schedulePollClose(classroomId: string, pollId: string, closesAt: string): void;
  /** On disconnect: the socket's connections go (attendance and presence follow). */
  dropped(socket: IoSocket): void;
  /** Graceful: removes this node's connections (with their leave effects) while the adapter still runs. */
  close(): Promise<void>;
}

export function createClassroomRooms(
  deps: Deps,
  options: { nodeId: string; presence: PresenceStore; sweepIntervalMs: number },
): ClassroomRooms {
  const { nodeId } = options;
  const { logger } = deps;
  /** socket id → the socket and the classrooms it joined. */
  const joined = new Map<string, { socket: IoSocket; classrooms: Set<string> }>();
  const inflight = new Set<Promise<unknown>>();
  /** "<classroomId> <socketId>" of joins in flight: not yet recorded, and not missing either. */
  const pending = new Set<string>();
  const pollTimers = new Set<NodeJS.Timeout>();
  let closing = false;
  const warn = (what: string) => (err: unknown) => logger.warn({ err: String(err) }, `classrooms: ${what} failed`);

  function remember(socket: IoSocket, classroomId: string) {
    let entry = joined.get(socket.id);
    if (!entry) joined.set(socket.id, (entry = { socket, classrooms: new Set() }));
    entry.classrooms.add(classroomId);
  }

  /**
   * A sweep removes the connections of nodes that look dead; a node that only looked dead (its liveness expired during
   * a Redis outage) finds its sockets' rows gone and records them again, with the join's rules.
   */
  async function reassert() {
    if (!joined.size) return;
    const recorded = await connectionsOfNode(deps, nodeId);
    for (const { socket, classrooms } of [...joined.values()]) {
      for (const classroomId of [...classrooms]) {
        const key = `${classroomId} ${socket.id}`;
        if (closing || !socket.connected || recorded.has(key) || pending.has(key)) continue;
        if (!socket.rooms.has(rooms.classroom(classroomId))) continue;
        const actor: Actor = { userId: socket.data.userId, sessionId: socket.data.sessionId, role: socket.data.role as Actor['role'] };
        await joinRoom(deps, actor, classroomId, { socketId: socket.id, nodeId }).catch(async (err) => {
          // No longer allowed in: out of the room, as a removal would have done.
          if (!(err instanceof AppError)) throw err;
          await socket.leave(rooms.classroom(classroomId));
          await socket.leave(rooms.classroomStaff(classroomId));
          classrooms.delete(classroomId);
        });
      }
    }
  }

  /**
   * Disconnects waiting to be applied, per classroom: while one change for a room runs, later drops gather into the
   * next, so a crowd dropping at once (a venue's Wi-Fi) does not queue a transaction per socket on the room lock.
   */
  const drops = new Map<string, Set<string>>();
  function drop(classroomId: string, socketId: string) {
    const waiting = drops.get(classroomId);
    if (waiting) return void waiting.add(socketId);
    const batch = new Set([socketId]);
    drops.set(classroomId, batch);
    const flushing = (async () => {
      for (let next = batch; next.size; ) {
        const socketIds = [...next];
        next.clear();
        await disconnectFromRoom(deps, classroomId, socketIds).catch(warn('leaving on disconnect'));
      }
      drops.delete(classroomId);
    })();
    inflight.add(flushing);
    void flushing.finally(() => inflight.delete(flushing));
  }

  let sweeping: Promise<void> | undefined;
  function sweep() {
    if (closing || sweeping) return;
    sweeping = (async () => {
      await sweepDeadConnections(deps, (ids) => options.presence.aliveNodes(ids)).catch(warn('sweeping dead nodes'));
      await closeOverduePolls(deps).catch(warn('closing overdue polls'));
      await reassert().catch(warn('re-recording connections'));
    })().finally(() => (sweeping = undefined));
  }
  const sweepTimer = setInterval(sweep, options.sweepIntervalMs).unref();

  return {
    deps,
    nodeId,
    assertOpen() {
      if (closing) throw new AppError('unavailable', 'This server is restarting; you will be reconnected in a moment.');
    },
    async joining(socket, classroomId, work) {
      remember(socket, classroomId);
      const key = `${classroomId} ${socket.id}`;
      pending.add(key);
      const running = work();
      inflight.add(running);
      try {
        return await running;
      } finally {
        inflight.delete(running);
        pending.delete(key);
        // Dropped while joining: the disconnect cleanup may have run before the join recorded the connection.
        if (socket.disconnected && !closing) drop(classroomId, socket.id);
      }
    },
    forget(socket, classroomId) {
      const entry = joined.get(socket.id);
      entry?.classrooms.delete(classroomId);
      if (entry && !entry.classrooms.size) joined.delete(socket.id);
    },
    schedulePollClose(classroomId, pollId, closesAt) {
      if (closing) return;
      const timer = setTimeout(() => {
        pollTimers.delete(timer);
        void closeExpiredPoll(deps, classroomId, pollId).catch(warn('closing a poll on time'));
      }, Math.max(0, new Date(closesAt).getTime() - deps.clock.now().getTime()));
      timer.unref();
      pollTimers.add(timer);
    },
    dropped(socket) {
      const entry = joined.get(socket.id);
      joined.delete(socket.id);
      // On shutdown, close() removes every connection of this node at once.
      if (!entry || closing) return;
      for (const classroomId of entry.classrooms) drop(classroomId, socket.id);
    },
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(sweepTimer);
      for (const timer of pollTimers) clearTimeout(timer);
      pollTimers.clear();
      const leave = async () => {
        await Promise.allSettled([...inflight, sweeping]);
        await removeNodeConnections(deps, [nodeId]);
      };
      await withTimeout(leave(), CLOSE_BUDGET_MS, 'classroom shutdown').catch(warn('removing this node from its classrooms'));
    },
  };
}
