import { asAppError } from './errors.ts';
import type { RateLimiter, RateLimiterFactory } from './stores.ts';

/** Per-person budgets for the actions that reach other people unasked (docs/operations.md, "Abuse limits"). */
export interface ActionLimitSettings {
  reportsPerHour: number;
  invitesPerHour: number;
  newDmsPerHour: number;
}

/**
 * Checked by the domain operations themselves (createReport, createInvite, openDm), so every route that reaches one —
 * REST today, a socket event tomorrow — spends the same budget. Shared by every node (Redis when clustered).
 */
export interface ActionLimits {
  /** Reports filed, including repeats of one already filed (each still costs the lookups). */
  reports: RateLimiter;
  /** Invite codes created. */
  invites: RateLimiter;
  /** DM conversations opened that did not exist yet; opening an existing one is free. */
  newDms: RateLimiter;
}

export type ActionLimit = keyof ActionLimits;

/** The metric label of each budget (edulure_abuse_refusals_total{limit}). */
const LABELS: Record<ActionLimit, string> = { reports: 'reports', invites: 'invites', newDms: 'new_dms' };

export function createActionLimits(
  factory: RateLimiterFactory,
  settings: ActionLimitSettings,
  /** Told of every refusal, for the metric. */
  onRefused: (limit: string) => void = () => {},
): ActionLimits {
  const limiter = (limit: ActionLimit, points: number): RateLimiter => {
    const inner = factory({ keyPrefix: `action-${LABELS[limit]}`, points, durationSeconds: 3600 });
    const observe = (err: unknown): never => {
      if (asAppError(err)?.code === 'rate_limited') onRefused(LABELS[limit]);
      throw err;
    };
    return {
      consume: (key, spend, message) => inner.consume(key, spend, message).catch(observe),
      assertAvailable: (key, message) => inner.assertAvailable(key, message).catch(observe),
      reset: (key) => inner.reset(key),
    };
  };
  return {
    reports: limiter('reports', settings.reportsPerHour),
    invites: limiter('invites', settings.invitesPerHour),
    newDms: limiter('newDms', settings.newDmsPerHour),
  };
}
