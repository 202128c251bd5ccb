import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import { rooms } from '../contracts/realtime.ts';
import { createSessionAuthenticator } from '../domain/auth/sessions.ts';
import type { Deps, Logger } from '../domain/shared/deps.ts';
import { DEPENDENCY_RETRY_AFTER_SECONDS, toErrorBody } from '../domain/shared/errors.ts';
import type { Metrics } from '../domain/shared/metrics.ts';
import type { Publisher } from '../domain/shared/publisher.ts';
import type { PresenceStore, PresenceTimings } from '../domain/presence/store.ts';
import { createAbuseGuard, type AbuseLimits } from './abuse.ts';
import { createClassroomRooms } from './classrooms.ts';
import { connectError } from './connectError.ts';
import { createChatKit, registerChatHandlers } from './handlers/chat.ts';
import { registerClassroomHandlers } from './handlers/classrooms.ts';
import { registerFeedHandlers } from './handlers/feed.ts';
import { registerModerationHandlers } from './handlers/moderation.ts';
import { registerPresenceHandlers } from './handlers/presence.ts';
import { registerSessionHandlers } from './handlers/session.ts';
import { createRealtimePresence } from './presence.ts';
import { closeClient, publisherClient, subscriberClient, withObservedFailures } from './redisClients.ts';
import { createLocalSessionBus, createRedisSessionBus, type SessionBus } from './sessionBus.ts';
import type { IoServer } from './types.ts';
import { createHandlerTable, type AckKit } from './withAck.ts';

export const MAX_SOCKET_PAYLOAD_BYTES = 64 * 1024;
const HANDOVER_STEP_MS = 100;

export interface RealtimeOptions {
  httpServer: HttpServer;
  metrics: Metrics;
  logger: Logger;
  allowedOrigins: string[];
  eventsPer10Seconds: number;
  messagesPer10Seconds: number;
  /** Connections per user and address, packet floods, slow consumers (realtime/abuse.ts). */
  abuse: AbuseLimits;
  /** When set, rooms and revocations span every node sharing this Redis. */
  redis?: { client: Redis; keyPrefix: string };
  /**
   * On shutdown, this node's clients are moved over this long (a slice every HANDOVER_STEP_MS) rather than all at once,
   * so the nodes taking them over see a stream of reconnects and catch-ups instead of one storm. 0: all at once.
   */
  shutdownHandoverMs?: number;
  /** Presence state (Redis-backed when clustered) and its timings. */
  presence: { store: PresenceStore; timings: PresenceTimings };
}

export interface Realtime {
  io: IoServer;
  publisher: Publisher;
  /** Tells every local socket the node is going away and closes the server. */
  close(): Promise<void>;
}

/**
 * Builds the Socket.IO server. `deps.publisher` is wired to the returned publisher by the composition root, because the
 * domain needs the publisher and the realtime layer needs the domain.
 */
export async function createRealtime(deps: Deps, options: RealtimeOptions): Promise<Realtime> {
  const { logger, metrics } = options;
  const io: IoServer = new Server(options.httpServer, {
    path: '/socket.io',
    maxHttpBufferSize: MAX_SOCKET_PAYLOAD_BYTES,
    serveClient: false,
    // CORS headers do not protect WebSockets: the Origin check below does. Requests without an Origin are
    // non-browser clients and still have to authenticate.
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      if (!origin || options.allowedOrigins.includes(origin)) return callback(null, true);
      logger.warn({ origin }, 'socket refused: origin not allowed');
      callback('origin not allowed', false);
    },
    cors: { origin: options.allowedOrigins, credentials: true },
    pingInterval: 20_000,
    pingTimeout: 20_000,
  });

  const pubsub: Redis[] = [];
  let bus: SessionBus;
  if (options.redis) {
    const pub = publisherClient(options.redis.client, logger, 'socket.io adapter pub');
    const sub = subscriberClient(options.redis.client, logger, 'socket.io adapter sub');
    pubsub.push(pub, sub);
    // The adapter does not handle its own command failures; these views log them (see withObservedFailures).
    const adapterPub = withObservedFailures(pub, logger, 'socket.io adapter pub');
    const adapterSub = withObservedFailures(sub, logger, 'socket.io adapter sub');
    io.adapter(createAdapter(adapterPub, adapterSub, { key: `${options.redis.keyPrefix}:socket.io` }));
    bus = await createRedisSessionBus(io, options.redis.client, `${options.redis.keyPrefix}:session-revoked`, logger);
  } else {
    bus = createLocalSessionBus(io);
  }

  const publisher: Publisher = {
    toRoom(room, event, ...args) {
      if (typeof room !== 'string' && room.length === 0) return;
      io.to(typeof room === 'string' ? room : [...room]).emit(event, ...args);
    },
    revokeSession: (payload) => bus.revoke(payload),
    leaveRoom(whoRoom, room) {
      io.in(whoRoom).socketsLeave(room);
    },
    joinRoom(whoRoom, room) {
      io.in(whoRoom).socketsJoin(room);
    },
    // `presence` is created below, before any connection and so before any domain event.
    revokePresence: (userId) => presence.revoke(userId),
  };

  // Before any other work: an address over its connection limit costs no token check.
  const abuse = createAbuseGuard(io, { limits: options.abuse, metrics, logger });
  io.use(abuse.admitAddress);

  // Set when the node begins to shut down: new handshakes go to another node.
  let draining = false;
  const sessions = createSessionAuthenticator(deps);
  io.use(async (socket, next) => {
    if (draining) {
      return next(connectError({ code: 'unavailable', message: 'This server is restarting; connect again.', retryAfter: 1 }));
    }
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
      return next(connectError({ code: 'unauthenticated', message: 'Send an access token as auth.token.' }));
    }
    try {
      const { actor, displayName } = await sessions.authenticate(token);
      socket.data = { userId: actor.userId, sessionId: actor.sessionId, role: actor.role, displayName };
      next();
    } catch (err) {
      const body = toErrorBody(err);
      // An outage (the session could not be read) is not a verdict on the token: the client tries again later.
      if (body.code === 'unavailable') {
        return next(connectError({ code: 'unavailable', message: body.message, retryAfter: body.retryAfter ?? DEPENDENCY_RETRY_AFTER_SECONDS }));
      }
      next(connectError({ code: body.code === 'unauthenticated' ? 'unauthenticated' : 'forbidden', message: body.message }));
    }
  });

  io.use(abuse.admitUser);
  // After authentication: presence needs the user.
  const presence = createRealtimePresence({ io, orm: deps.orm, logger, clustered: Boolean(options.redis), ...options.presence });
  io.use(presence.prepare);

  const kit: AckKit = {
    metrics,
    logger,
    eventLimiter: deps.rateLimiterFactory({
      keyPrefix: 'socket-events',
      points: options.eventsPer10Seconds,
      durationSeconds: 10,
    }),
  };

  const chatKit = createChatKit(deps, { messagesPer10Seconds: options.messagesPer10Seconds });
  // Classroom connections carry the presence node id, so the presence store's liveness tells when a node died.
  const classrooms = createClassroomRooms(deps, {
    nodeId: presence.nodeId,
    presence: options.presence.store,
    sweepIntervalMs: options.presence.timings.sweepIntervalMs,
  });

  // Every client event's handler, once for the server; each socket gets the one dispatcher.
  const handlers = createHandlerTable(kit);
  registerSessionHandlers(handlers.on);
  registerChatHandlers(handlers.on, chatKit);
  registerPresenceHandlers(handlers.on, presence);
  registerClassroomHandlers(handlers.on, classrooms);
  registerFeedHandlers(handlers.on, deps);
  registerModerationHandlers(handlers.on, deps);

  io.on('connection', (socket) => {
    metrics.openSockets.inc();
    void socket.join([rooms.user(socket.data.userId), rooms.session(socket.data.sessionId)]);
    handlers.attach(socket);
    presence.attach(socket);
    socket.on('disconnect', () => {
      metrics.openSockets.dec();
      classrooms.dropped(socket);
    });
  });

  /** Closes this node's sockets in slices spread over `windowMs`, each once its events under way are answered. */
  async function handOver(windowMs: number) {
    const sockets = [...io.of('/').sockets.values()];
    const slices = Math.max(1, Math.floor(windowMs / HANDOVER_STEP_MS));
    const perSlice = Math.ceil(sockets.length / slices);
    for (let from = 0; from < sockets.length; from += perSlice) {
      if (from > 0) await new Promise((resolve) => setTimeout(resolve, HANDOVER_STEP_MS));
      await Promise.all(
        sockets.slice(from, from + perSlice).map(async (socket) => {
          await handlers.release(socket);
          // A transport close, not a server-side disconnect: socket.io-client reconnects on its own.
          socket.conn.close();
        }),
      );
    }
  }

  return {
    io,
    publisher,
    async close() {
      draining = true;
      // Local sockets only: other nodes keep serving theirs. Closing the transports (rather than a server-side
      // disconnect) makes clients reconnect on their own, to a surviving node behind the load balancer.
      io.local.emit('server:shutdown', { reconnect: true });
      // Socket by socket, over the handover: its events already being handled are answered (sends stored and acked),
      // later ones refused `unavailable` (the client sends them again once reconnected elsewhere), then its transport
      // is closed; the sockets not handed over yet are served as usual meanwhile.
      await handOver(options.shutdownHandoverMs ?? 0);
      await handlers.drain();
      await chatKit.batcher.close();
      // While the adapter still runs: this node's classroom connections leave their rooms (attendance closed, rosters
      // patched for everyone on the other nodes) before the sockets go.
      await classrooms.close();
      // While the adapter still runs: removes this node's connections and announces who went offline.
      await presence.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await bus.close();
      await Promise.all(pubsub.map(closeClient));
    },
  };
}
