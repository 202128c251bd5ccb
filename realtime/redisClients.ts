import type { Redis } from 'ioredis';
import type { Logger } from '../domain/shared/deps.ts';

/**
 * A dedicated connection for SUBSCRIBE. Its commands wait for Redis however long it is away (no per-request retry
 * limit): a SUBSCRIBE that failed while Redis was down would never be re-sent, leaving the node deaf to the cluster
 * after Redis comes back, whereas a queued one goes out on reconnect and ioredis resubscribes after later outages.
 */
export function subscriberClient(base: Redis, logger: Logger, role: string): Redis {
  const client = base.duplicate({ maxRetriesPerRequest: null });
  client.on('error', (err) => logger.warn({ err: String(err), role }, 'redis error'));
  return client;
}

/** A connection for PUBLISH; it keeps the base client's retry limit, so an outage fails publishes instead of queueing them. */
export function publisherClient(base: Redis, logger: Logger, role: string): Redis {
  const client = base.duplicate();
  client.on('error', (err) => logger.warn({ err: String(err), role }, 'redis error'));
  return client;
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
