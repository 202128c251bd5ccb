import type { Redis } from 'ioredis';
import { rooms, type SessionRevokedPayload } from '../contracts/realtime.ts';
import type { Logger } from '../domain/shared/deps.ts';
import { closeClient, subscriberClient, untilDoneOrUnreachable } from './redisClients.ts';
import type { IoServer } from './types.ts';

/**
 * Cuts a session's sockets on every node. Each node tells its own sockets in that session's room
 * (`session:revoked` first, then disconnect), so the order holds per socket whatever node it is on.
 */
export interface SessionBus {
  revoke(payload: SessionRevokedPayload): Promise<void>;
  close(): Promise<void>;
}

function disconnectLocally(io: IoServer, payload: SessionRevokedPayload) {
  const room = rooms.session(payload.sessionId);
  io.local.to(room).emit('session:revoked', payload);
  io.local.in(room).disconnectSockets(true);
}

export function createLocalSessionBus(io: IoServer): SessionBus {
  return {
    async revoke(payload) {
      disconnectLocally(io, payload);
    },
    async close() {},
  };
}

export async function createRedisSessionBus(io: IoServer, redis: Redis, channel: string, logger: Logger): Promise<SessionBus> {
  const subscriber = subscriberClient(redis, logger, 'session bus');
  subscriber.on('message', (received: string, message: string) => {
    if (received !== channel) return;
    try {
      disconnectLocally(io, JSON.parse(message) as SessionRevokedPayload);
    } catch (err) {
      logger.error({ err: String(err) }, 'bad session bus message');
    }
  });
  // Subscribed before the node listens, so no revocation published after that is missed; a Redis that is down at
  // start does not keep the node from starting (it reports not ready until Redis is back).
  await untilDoneOrUnreachable(subscriber, subscriber.subscribe(channel), logger, 'session bus subscribe');
  return {
    async revoke(payload) {
      await redis.publish(channel, JSON.stringify(payload));
    },
    async close() {
      await closeClient(subscriber);
    },
  };
}
