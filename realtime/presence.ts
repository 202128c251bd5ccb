import { randomBytes } from 'node:crypto';
import type { PresenceList } from '../contracts/chat.ts';
import { PRESENCE_WATCH_LIMIT } from '../contracts/values/chat.ts';
import { rooms } from '../contracts/realtime.ts';
import { createCoalescer } from '../domain/presence/coalescer.ts';
import { createCommunityIdsReader, presenceUnavailable, presentAmong, visiblePeople } from '../domain/presence/communityPresence.ts';
import type { ChosenStatus, PresenceConnection, PresenceStore, PresenceTimings } from '../domain/presence/store.ts';
import type { Logger, Orm } from '../domain/shared/deps.ts';
import { AppError } from '../domain/shared/errors.ts';
import { withTimeout } from '../domain/shared/time.ts';
import type { IoServer, IoSocket } from './types.ts';

/** Users settled per store call when a big batch is flushed. */
const ANNOUNCE_CHUNK = 1000;
const WATCH_PREFIX = rooms.presenceOf('');
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
  /**
   * `presence:watch`: this socket stops following `remove` and starts following those of `add` its user may see
   * (through a shared community); answers with the statuses of those followed now who are not offline.
   */
  watch(socket: IoSocket, change: { add: readonly string[]; remove: readonly string[] }): Promise<PresenceList>;
  /**
   * Who may see whom changed for `userId` (they left or were removed from a community): on every node, the sockets
   * following them and their own sockets stop following, and hear `presence:rewatch` to ask again.
   */
  revoke(userId: string): void;
  /** Graceful: removes this node's connections and announces who went offline, before the sockets are closed. */
  close(): Promise<void>;
}

/**
 * One node's share of presence: records its sockets in the store, keeps itself alive there (heartbeat), sweeps for
 * dead nodes' leftovers (one sweeper at a time across the cluster), and announces changes in coalesced batches:
 * `presence:updated` goes, once per changed user, to the sockets following them (`presence:watch`, the people a tab
 * shows) and to the user's own room (their other devices) in one emit, which Socket.IO delivers once per socket
 * across those rooms. Nobody hears of people they do not show, so an arrival costs its watchers, not the community:
 * 5,000 members connecting is 5,000 small broadcasts rather than 5,000 × 5,000 deliveries.
 */
export function createRealtimePresence(options: {
  io: IoServer;
  store: PresenceStore;
  orm: Orm;
  logger: Logger;
  timings: PresenceTimings;
  /** Other nodes share this one's rooms (the Redis adapter): what only they can do locally is sent to them. */
  clustered: boolean;
}): RealtimePresence {
  const { io, store, orm, logger, timings } = options;
  const nodeId = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const local = new Map<string, PresenceConnection>();
  // The communities whose presence rooms a new socket joins, read for the handshakes of a moment together.
  const communityIds = createCommunityIdsReader(orm);
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
      // Settle records the change as announced, so the emit follows it without delay.
      for (const { userId, status } of await store.settle(userIds.slice(i, i + ANNOUNCE_CHUNK))) {
        io.to([rooms.user(userId), rooms.presenceOf(userId)]).emit('presence:updated', { userId, status });
      }
    }
  }

  /** The rooms through which a socket follows people (`presence:watch`). */
  const watchRooms = (socket: IoSocket) => [...socket.rooms].filter((room) => room.startsWith(WATCH_PREFIX));

  /** This node's part of a revocation: the user's own sockets here stop following anyone. */
  function revokeLocally(userId: string) {
    const ids = io.of('/').adapter.rooms.get(rooms.user(userId));
    for (const id of ids ?? []) {
      const socket = io.of('/').sockets.get(id);
      if (!socket) continue;
      for (const room of watchRooms(socket)) void socket.leave(room);
      socket.emit('presence:rewatch', { userIds: null });
    }
  }
  io.on('presence:revoke', (userId) => revokeLocally(userId));

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
      const ids = await communityIds(socket.data.userId);
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
      communityIds(socket.data.userId).then(
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
        throw presenceUnavailable();
      }
    },
    async choose(userId, status) {
      let changed: boolean;
      try {
        changed = await store.choose(userId, status);
      } catch (err) {
        warn('presence:set')(err);
        throw presenceUnavailable();
      }
      markIf(userId)(changed);
    },
    async watch(socket, { add, remove }) {
      for (const userId of remove) void socket.leave(rooms.presenceOf(userId));
      const self = socket.data.userId;
      const wanted = [...new Set(add)].filter((id) => id !== self);
      if (wanted.length === 0) return { data: [] };
      const fresh = wanted.filter((id) => !socket.rooms.has(rooms.presenceOf(id))).length;
      if (watchRooms(socket).length + fresh > PRESENCE_WATCH_LIMIT) {
        throw new AppError('invalid_input', `Follow at most ${PRESENCE_WATCH_LIMIT} people's presence at once: remove some first.`);
      }
      const visible = await visiblePeople(orm, self, wanted);
      if (visible.length === 0 || !socket.connected) return { data: [] };
      // Joined before the statuses are read: a change after the read reaches the socket live, so none is missed.
      await socket.join(visible.map(rooms.presenceOf));
      // A revocation (someone left a community) that landed between the check and the join emptied those rooms before
      // this socket was in them: check again now that it is, so nobody keeps following through a community gone.
      const still = new Set(await visiblePeople(orm, self, visible));
      const following = visible.filter((id) => still.has(id));
      for (const id of visible) if (!still.has(id)) void socket.leave(rooms.presenceOf(id));
      return { data: await presentAmong(store, logger, following) };
    },
    revoke(userId) {
      // Those following the person ask again (the server checks again), then everyone stops following them.
      io.to(rooms.presenceOf(userId)).emit('presence:rewatch', { userIds: [userId] });
      io.in(rooms.presenceOf(userId)).socketsLeave(rooms.presenceOf(userId));
      // The person's own sockets may follow people they no longer share a community with: on every node, they stop
      // following anyone and ask again.
      revokeLocally(userId);
      if (options.clustered) io.serverSideEmit('presence:revoke', userId);
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
