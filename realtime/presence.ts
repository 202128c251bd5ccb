import { randomBytes } from 'node:crypto';
import { rooms } from '../contracts/realtime.ts';
import { createCoalescer } from '../domain/presence/coalescer.ts';
import { communityIdsByUser, communityIdsOf } from '../domain/presence/communityPresence.ts';
import type { ChosenStatus, PresenceConnection, PresenceStore, PresenceTimings } from '../domain/presence/store.ts';
import type { Logger, Orm } from '../domain/shared/deps.ts';
import { AppError } from '../domain/shared/errors.ts';
import { withTimeout } from '../domain/shared/time.ts';
import type { IoServer, IoSocket } from './types.ts';

/** Users announced per SQL query and store call when a big batch is flushed. */
const ANNOUNCE_CHUNK = 1000;
/** Shutdown does not wait longer than this on an unreachable Redis or database; the sweepers clean up instead. */
const CLOSE_BUDGET_MS = 3000;

export interface RealtimePresence {
  readonly nodeId: string;
  /**
   * Socket middleware, registered after authentication: loads the user's communities before the socket counts as
   * connected, so `attach` can join their presence rooms before the client can see the connection — no update sent
   * after the client's `connect` is missed.
   */
  prepare(socket: IoSocket, next: (err?: Error) => void): void;
  /** On connection: joins the presence rooms, records the device, and removes it on disconnect. */
  attach(socket: IoSocket): void;
  /** `presence:focus`: whether this device's tab is the one the person looks at (nothing is announced). */
  focus(socket: IoSocket, focused: boolean): Promise<void>;
  /** `presence:set`: the user's chosen status, announced with the next batch if it changed. */
  choose(userId: string, status: ChosenStatus): Promise<void>;
  /** Graceful: removes this node's connections and announces who went offline, before the sockets are closed. */
  close(): Promise<void>;
}

/**
 * One node's share of presence: records its sockets in the store, keeps itself alive there (heartbeat), sweeps for
 * dead nodes' leftovers (one sweeper at a time across the cluster), and announces changes in coalesced batches:
 * `presence:updated` goes, once per changed user, to the presence rooms of the user's communities and to the user's
 * own room (their other devices) in one emit, which Socket.IO delivers once per socket across those rooms.
 */
export function createRealtimePresence(options: {
  io: IoServer;
  store: PresenceStore;
  orm: Orm;
  logger: Logger;
  timings: PresenceTimings;
}): RealtimePresence {
  const { io, store, orm, logger, timings } = options;
  const nodeId = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const local = new Map<string, PresenceConnection>();
  const preloaded = new WeakMap<IoSocket, string[]>();
  /** Each socket's connect call, so its focus reports reach the store after it. */
  const recorded = new WeakMap<IoSocket, Promise<void>>();
  let closing = false;

  const coalescer = createCoalescer({
    windowMs: timings.coalesceMs,
    flush: announce,
    onError: (err, userIds) => logger.warn({ err: String(err), users: userIds.length }, 'presence: announcing failed; will retry'),
  });

  async function announce(userIds: string[]) {
    for (let i = 0; i < userIds.length; i += ANNOUNCE_CHUNK) {
      const chunk = userIds.slice(i, i + ANNOUNCE_CHUNK);
      // Communities first: settle records the change as announced, so the emit must follow it without delay.
      const communities = await communityIdsByUser(orm, chunk);
      for (const { userId, status } of await store.settle(chunk)) {
        const targets = [rooms.user(userId), ...(communities.get(userId) ?? []).map(rooms.communityPresence)];
        io.to(targets).emit('presence:updated', { userId, status });
      }
    }
  }

  const markIf = (userId: string) => (changed: boolean) => {
    if (changed) coalescer.mark([userId]);
  };
  const warn = (what: string) => (err: unknown) => logger.warn({ err: String(err) }, `presence: ${what} failed`);

  let heartbeating: Promise<void> | undefined;
  function heartbeat() {
    if (closing || heartbeating) return;
    heartbeating = store
      .heartbeat(nodeId, [...local.values()])
      .then((revived) => coalescer.mark(revived), warn('heartbeat'))
      .finally(() => (heartbeating = undefined));
  }

  let sweeping: Promise<void> | undefined;
  function sweep() {
    if (closing || sweeping) return;
    sweeping = store
      .sweep(nodeId)
      .then((users) => {
        if (users) coalescer.mark(users);
      }, warn('sweep'))
      .finally(() => (sweeping = undefined));
  }

  heartbeat();
  const heartbeatTimer = setInterval(heartbeat, timings.heartbeatMs).unref();
  const sweepTimer = setInterval(sweep, timings.sweepIntervalMs).unref();

  async function joinLater(socket: IoSocket) {
    try {
      const ids = await communityIdsOf(orm, socket.data.userId);
      if (socket.connected) await socket.join(ids.map(rooms.communityPresence));
    } catch (err) {
      warn('joining presence rooms')(err);
    }
  }

  async function tellOwnStatus(socket: IoSocket) {
    try {
      const userId = socket.data.userId;
      const status = (await store.statusOf([userId])).get(userId);
      if (status && socket.connected) socket.emit('presence:updated', { userId, status });
    } catch (err) {
      warn('reading own status')(err);
    }
  }

  return {
    nodeId,
    prepare(socket, next) {
      communityIdsOf(orm, socket.data.userId).then(
        (ids) => {
          preloaded.set(socket, ids);
          next();
        },
        (err: unknown) => {
          // Presence is not worth refusing a connection over; attach tries again.
          warn('loading communities')(err);
          next();
        },
      );
    },
    attach(socket) {
      if (closing) return;
      const connection: PresenceConnection = { userId: socket.data.userId, connectionId: socket.id };
      local.set(socket.id, connection);
      const ids = preloaded.get(socket);
      if (ids) void socket.join(ids.map(rooms.communityPresence));
      else void joinLater(socket);

      // Issued now, so it reaches the store before any later heartbeat or removal of this node; the disconnect waits
      // for it, so it can never overtake it.
      const connected = store.connect(nodeId, connection).then(markIf(connection.userId), warn('connect'));
      recorded.set(socket, connected);
      // The device learns the status its person chose (kept across sign-ins and shared by their devices): a change
      // is announced only when there is one, so a device that connects to an unchanged status would hear nothing.
      void connected.then(() => tellOwnStatus(socket));
      socket.once('disconnect', () => {
        local.delete(socket.id);
        // On shutdown, close() removes all of this node's connections at once.
        if (closing) return;
        void connected.then(() => store.disconnect(nodeId, connection)).then(markIf(connection.userId), warn('disconnect'));
      });
    },
    async focus(socket, focused) {
      await recorded.get(socket);
      try {
        await store.focus({ userId: socket.data.userId, connectionId: socket.id }, focused);
      } catch (err) {
        warn('presence:focus')(err);
        throw new AppError('unavailable', 'Presence is unavailable right now. Try again in a moment.');
      }
    },
    async choose(userId, status) {
      let changed: boolean;
      try {
        changed = await store.choose(userId, status);
      } catch (err) {
        warn('presence:set')(err);
        throw new AppError('unavailable', 'Presence is unavailable right now. Try again in a moment.');
      }
      markIf(userId)(changed);
    },
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(heartbeatTimer);
      clearInterval(sweepTimer);
      // No need to wait for heartbeats or connects in flight: they went to the store before the removal does.
      const leave = async () => {
        try {
          coalescer.mark(await store.removeNode(nodeId));
        } catch (err) {
          // The other nodes' sweepers remove this node's connections once its liveness expires.
          warn('removing this node')(err);
        }
        await coalescer.close();
      };
      await withTimeout(leave(), CLOSE_BUDGET_MS, 'presence shutdown').catch(warn('leaving the cluster'));
    },
  };
}
