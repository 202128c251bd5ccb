import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { db } from '../../orm/db.ts';
import type { Orm } from '../../orm/database.ts';
import { AppError, DEPENDENCY_RETRY_AFTER_SECONDS, dependencyFailure } from './errors.ts';

/** Told each time a feature is served without Redis (metrics): `feature` names the store. */
export type FallbackObserver = (feature: string) => void;

/**
 * Sessions revoked before their access tokens expire. Shared through Redis when clustered so every node
 * refuses a revoked token at once; in-process otherwise.
 */
export interface RevocationStore {
  revoke(sessionId: string, ttlSeconds: number): Promise<void>;
  isRevoked(sessionId: string): Promise<boolean>;
}

export function createMemoryRevocationStore(): RevocationStore {
  const revoked = new Map<string, number>();
  return {
    async revoke(sessionId, ttlSeconds) {
      revoked.set(sessionId, Date.now() + ttlSeconds * 1000);
    },
    async isRevoked(sessionId) {
      const until = revoked.get(sessionId);
      if (until === undefined) return false;
      if (until < Date.now()) {
        revoked.delete(sessionId);
        return false;
      }
      return true;
    },
  };
}

/**
 * Revocations in Redis, shared by every node. While Redis is unreachable the database answers instead (a revoked
 * session's row says so; the Redis entry only saves that read), and a revocation is kept on this node until Redis is
 * back — the row is already written, and every node reloads recent revocations into Redis when it reconnects.
 */
export function createRedisRevocationStore(
  redis: Redis,
  prefix = 'edulure:revoked:',
  options: { orm?: Orm; onFallback?: FallbackObserver } = {},
): RevocationStore {
  const local = createMemoryRevocationStore();
  const unreachable = (err: unknown) => dependencyFailure(err) === 'redis';
  return {
    async revoke(sessionId, ttlSeconds) {
      try {
        await redis.set(prefix + sessionId, '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)));
      } catch (err) {
        if (!unreachable(err)) throw err;
        options.onFallback?.('revocations');
        await local.revoke(sessionId, ttlSeconds);
      }
    },
    async isRevoked(sessionId) {
      if (await local.isRevoked(sessionId)) return true;
      try {
        return (await redis.exists(prefix + sessionId)) === 1;
      } catch (err) {
        if (!unreachable(err) || !options.orm) throw err;
        options.onFallback?.('revocations');
        return revokedInDatabase(options.orm, sessionId);
      }
    },
  };
}

/** The session's own row: revoked, or gone. */
async function revokedInDatabase(orm: Orm, sessionId: string): Promise<boolean> {
  const row = await db(orm.em.fork()).selectFrom('sessions').select('revoked_at').where('id', '=', sessionId).executeTakeFirst();
  return !row || row.revoked_at !== null;
}

export interface RateLimitSpec {
  keyPrefix: string;
  points: number;
  durationSeconds: number;
  blockSeconds?: number;
}

export type RateLimiterFactory = (spec: RateLimitSpec) => RateLimiter;

/** A thin wrapper that turns a rate-limiter-flexible refusal into a `rate_limited` AppError. */
export interface RateLimiter {
  /** Spends points for `key`; throws `rate_limited` with retryAfter when exhausted. */
  consume(key: string, points?: number, message?: string): Promise<void>;
  /** Throws `rate_limited` if `key` is exhausted, without spending. */
  assertAvailable(key: string, message?: string): Promise<void>;
  reset(key: string): Promise<void>;
}

/**
 * Rate limits in Redis (one budget across the cluster) when clustered. While Redis is unreachable — not connected, or
 * no reply within the client's command timeout — each node counts in its own memory instead, so a request never waits
 * on Redis for its budget; the cluster-wide budget is then up to one per node.
 */
export function createRateLimiterFactory(
  redis: Redis | undefined,
  namespace = 'edulure',
  options: { onFallback?: FallbackObserver } = {},
): RateLimiterFactory {
  return (spec) => {
    const limits = {
      keyPrefix: `${namespace}:rl:${spec.keyPrefix}`,
      points: spec.points,
      duration: spec.durationSeconds,
      blockDuration: spec.blockSeconds ?? 0,
    };
    const limiter: RateLimiterAbstract = redis
      ? new RateLimiterRedis({
          ...limits,
          storeClient: redis,
          rejectIfRedisNotReady: true,
          insuranceLimiter: observedFallback(new RateLimiterMemory(limits), () => options.onFallback?.('rate_limits')),
        })
      : new RateLimiterMemory(limits);
    return wrapLimiter(limiter, spec.points);
  };
}

/** The in-memory limiter standing in for Redis, telling `onUse` each time it answers. */
function observedFallback(limiter: RateLimiterMemory, onUse: () => void): RateLimiterMemory {
  for (const method of ['consume', 'get', 'penalty', 'reward', 'block', 'delete'] as const) {
    const original = limiter[method].bind(limiter) as (...args: unknown[]) => unknown;
    (limiter as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      onUse();
      return original(...args);
    };
  }
  return limiter;
}

function retryAfterSeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

function wrapLimiter(limiter: RateLimiterAbstract, points: number): RateLimiter {
  const refuse = (res: RateLimiterRes, message?: string): never => {
    const retryAfter = retryAfterSeconds(res);
    throw new AppError('rate_limited', message ?? `Too many requests. Try again in ${retryAfter} s.`, { retryAfter });
  };
  return {
    async consume(key, spend = 1, message) {
      try {
        await limiter.consume(key, spend);
      } catch (err) {
        if (err instanceof RateLimiterRes) refuse(err, message);
        throw new AppError('unavailable', 'Rate limiting is unavailable right now.', { retryAfter: DEPENDENCY_RETRY_AFTER_SECONDS });
      }
    },
    async assertAvailable(key, message) {
      const res = await limiter.get(key);
      if (res && (res.consumedPoints >= points || res.remainingPoints <= 0)) refuse(res, message);
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}
