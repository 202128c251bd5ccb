import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from './errors.ts';

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

export function createRedisRevocationStore(redis: Redis, prefix = 'edulure:revoked:'): RevocationStore {
  return {
    async revoke(sessionId, ttlSeconds) {
      await redis.set(prefix + sessionId, '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)));
    },
    async isRevoked(sessionId) {
      return (await redis.exists(prefix + sessionId)) === 1;
    },
  };
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

export function createRateLimiterFactory(redis: Redis | undefined, namespace = 'edulure'): RateLimiterFactory {
  return (spec) => {
    const options = {
      keyPrefix: `${namespace}:rl:${spec.keyPrefix}`,
      points: spec.points,
      duration: spec.durationSeconds,
      blockDuration: spec.blockSeconds ?? 0,
    };
    const limiter: RateLimiterAbstract = redis
      ? new RateLimiterRedis({ ...options, storeClient: redis })
      : new RateLimiterMemory(options);
    return wrapLimiter(limiter, spec.points);
  };
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
        throw new AppError('unavailable', 'Rate limiting is unavailable right now.');
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
