import { db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import { processPaymentEvent } from './paymentEvents.ts';

/*
 * Stripe tells us a subscription renewed or ended by webhook, and retries for days — but a delivery can still be lost
 * (an endpoint misconfigured for a week). A member whose subscription ended must not keep the community: the periodic
 * reconciliation asks the provider about every subscription whose paid period ended more than an hour ago without a
 * word, and feeds what it learns through the same event path as a webhook (so it applies once, whichever comes first).
 */

/** Stripe renews at the period's end and retries a failed renewal for a while: give its events this long to come. */
const QUIET_AFTER_PERIOD_MS = 3600_000;
const BATCH = 100;

/** Returns how many subscriptions it settled. */
export async function reconcileProviderSubscriptions(deps: Deps, now: Date): Promise<number> {
  const provider = deps.commerce.provider;
  if (provider?.name !== 'stripe') return 0;
  const due = await db(deps.orm.em.fork())
    .selectFrom('subscriptions')
    .select(['id', 'provider_subscription_id', 'status', 'current_period_end'])
    .where('provider', '=', 'stripe')
    .where('status', 'in', ['active', 'past_due', 'canceled'])
    .where('provider_subscription_id', 'is not', null)
    .where('current_period_end', '<=', new Date(now.getTime() - QUIET_AFTER_PERIOD_MS))
    .orderBy('current_period_end')
    .limit(BATCH)
    .execute();
  let settled = 0;
  for (const row of due) {
    const subscriptionId = row.provider_subscription_id!;
    try {
      const current = await provider.retrieveSubscription(subscriptionId);
      const periodEnd = current.currentPeriodEnd?.toISOString() ?? null;
      if (current.status === 'ended') {
        await processPaymentEvent(deps, {
          id: `reconcile_${subscriptionId}_ended`,
          provider: 'stripe',
          type: 'subscription.deleted',
          subscriptionId,
          status: 'ended',
          currentPeriodEnd: periodEnd,
          cancelAtPeriodEnd: current.cancelAtPeriodEnd,
        });
        settled += 1;
      } else if (periodEnd !== row.current_period_end?.toISOString() || current.status !== row.status) {
        await processPaymentEvent(deps, {
          id: `reconcile_${subscriptionId}_${current.status}_${current.currentPeriodEnd?.getTime() ?? 0}`,
          provider: 'stripe',
          type: 'subscription.updated',
          subscriptionId,
          status: current.status,
          currentPeriodEnd: periodEnd,
          cancelAtPeriodEnd: current.cancelAtPeriodEnd,
        });
        settled += 1;
      }
    } catch (err) {
      // One unreachable answer does not hold up the others; the next sweep asks again.
      deps.logger.warn({ err: String(err), subscriptionId }, 'subscriptions: could not reconcile a subscription with the provider');
    }
  }
  return settled;
}
