import type { Next } from 'koa';
import type { Deps } from '../../domain/shared/deps.ts';
import type { ApiContext } from '../context.ts';
import { actorOf } from '../middlewares/auth.ts';

export type FeedLimit = (ctx: ApiContext, next: Next) => Promise<unknown>;

export interface FeedLimits {
  writes: FeedLimit;
  reactions: FeedLimit;
}

/**
 * Per-person budgets for writing to feeds, on every node alike (Redis when clustered): generous for people, tight
 * enough that a script cannot flood a community faster than its moderators can read. Posts, comments, reactions and
 * votes draw on the same two budgets.
 */
export function feedLimits(deps: Deps): FeedLimits {
  const limit = (keyPrefix: string, points: number, message: string): FeedLimit => {
    const limiter = deps.rateLimiterFactory({ keyPrefix, points, durationSeconds: 60 });
    return async (ctx, next) => {
      await limiter.consume(actorOf(ctx).userId, 1, message);
      return next();
    };
  };
  return {
    writes: limit('feed-writes', 30, 'You are posting too fast; wait a moment.'),
    reactions: limit('feed-reactions', 120, 'You are reacting too fast; wait a moment.'),
  };
}
