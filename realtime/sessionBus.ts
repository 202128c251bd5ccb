import type { Redis } from 'ioredis';
import { rooms, type SessionRevokedPayload } from '../contracts/realtime.ts';
import type { Logger } from '../orm/database.ts';
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
  const subscriber = redis.duplicate();
  subscriber.on('message', (received: string, message: string) => {
    if (received !== channel) return;
    try {
      disconnectLocally(io, JSON.parse(message) as SessionRevokedPayload);
    } catch (err) {
      logger.error({ err: String(err) }, 'bad session bus message');
    }
  });
  await subscriber.subscribe(channel);
  return {
    async revoke(payload) {
      await redis.publish(channel, JSON.stringify(payload));
    },
    async close() {
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
