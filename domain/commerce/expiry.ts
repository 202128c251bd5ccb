import type { JobHandler } from '../shared/jobs.ts';
import type { Deps } from '../shared/deps.ts';
import './events.ts';

/** 'orders.expire': a pending checkout reached its hold time — settle it with the provider or expire it. */
export function expireOrderJob(deps: Deps): JobHandler<'orders.expire'> {
  return async () => {
    void deps;
  };
}

/** 'orders.reconcile': re-checks orders pending longer than 30 minutes; renews or ends test subscriptions. */
export function reconcileJob(deps: Deps): JobHandler<'orders.reconcile'> {
  return async () => {
    void deps;
  };
}

/** Queues the periodic reconciliation (one pending job cluster-wide, by job key). */
export async function scheduleReconciliation(deps: Deps): Promise<void> {
  void deps;
}
