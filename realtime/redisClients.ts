import { Redis } from 'ioredis';
import type { Logger } from '../domain/shared/deps.ts';

/**
 * The node's command connection. No command waits on Redis longer than `timeoutMs`: one without a reply by then is
 * refused (`commandTimeout`), and once the connection has been ready, a command sent while it is down is refused at
 * once instead of queueing until Redis is back (callers answer `unavailable` or fall back; nothing queued in an outage
 * runs late). Before the first connection, commands queue — bounded by the same timeout — so a node starting alongside
 * Redis does not fail its first commands. Commands cut off with a connection are never re-sent after reconnecting.
 */
export function createRedisClient(url: string, options: { timeoutMs: number; logger: Logger }): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    commandTimeout: options.timeoutMs,
    autoResendUnfulfilledCommands: false,
    connectionName: 'edulure',
    // The commands of one event-loop turn (rate limits, revocation checks, presence, of every socket) leave in one
    // write: under load a socket write per command was a large share of a node's CPU.
    enableAutoPipelining: true,
  });
  client.on('error', (err) => options.logger.warn({ err: String(err) }, 'redis error'));
  return failFastOnceReady(client);
}

/** From the first `ready` on, commands sent while disconnected are refused at once (see createRedisClient). */
function failFastOnceReady(client: Redis): Redis {
  if (client.status === 'ready') client.options.enableOfflineQueue = false;
  else client.once('ready', () => (client.options.enableOfflineQueue = false));
  return client;
}

/**
 * A dedicated connection for SUBSCRIBE. Its commands wait for Redis however long it is away (no per-request retry
 * limit, no command timeout, the offline queue kept): a SUBSCRIBE that failed while Redis was down would never be
 * re-sent, leaving the node deaf to the cluster after Redis comes back, whereas a queued one goes out on reconnect and
 * ioredis resubscribes after later outages. No request waits on this connection.
 */
export function subscriberClient(base: Redis, logger: Logger, role: string): Redis {
  const client = base.duplicate({
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    commandTimeout: undefined,
    autoResendUnfulfilledCommands: true,
    enableAutoPipelining: false,
  });
  client.on('error', (err) => logger.warn({ err: String(err), role }, 'redis error'));
  return client;
}

/**
 * A connection for PUBLISH; it keeps the base client's limits, so an outage fails publishes (logged) instead of
 * queueing them to go out late.
 */
export function publisherClient(base: Redis, logger: Logger, role: string): Redis {
  const client = base.duplicate({ enableOfflineQueue: true });
  client.on('error', (err) => logger.warn({ err: String(err), role }, 'redis error'));
  return failFastOnceReady(client);
}

/**
 * The Socket.IO Redis adapter fires commands (PUBLISH on every broadcast, SUBSCRIBE at start) without handling their
 * promises. During a Redis outage those reject, and an unhandled rejection ends the Node process. This view of the
 * client logs such failures; each promise is returned unchanged, so a caller that awaits it still sees the error.
 */
export function withObservedFailures(client: Redis, logger: Logger, role: string): Redis {
  return new Proxy(client, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) {
          result.catch((err: unknown) => logger.warn({ err: String(err), role, command: String(property) }, 'redis command failed'));
        }
        return result;
      };
    },
  });
}

/**
 * Waits for `pending` (a SUBSCRIBE) unless the connection reports an error first: then the node starts anyway —
 * readiness reports Redis as failing — and the queued command goes out when Redis is reachable.
 */
export function untilDoneOrUnreachable(client: Redis, pending: Promise<unknown>, logger: Logger, what: string): Promise<void> {
  return new Promise((resolve) => {
    const onError = (err: unknown) => {
      logger.warn({ err: String(err) }, `${what}: Redis unreachable; continuing, will subscribe when it is back`);
      resolve();
    };
    client.once('error', onError);
    pending.then(
      () => {
        client.off('error', onError);
        resolve();
      },
      (err: unknown) => {
        client.off('error', onError);
        logger.warn({ err: String(err) }, `${what} failed`);
        resolve();
      },
    );
  });
}

/** QUIT when connected (flushes pending replies); otherwise drop the connection so close never waits on Redis. */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
}
