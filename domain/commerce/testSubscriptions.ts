import { db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import { processPaymentEvent } from './paymentEvents.ts';
import { periodEnd } from './testProvider.ts';

/**
 * Test payments have no billing of their own: the periodic reconciliation renews test subscriptions whose period has
 * ended — a synthesised renewal invoice through the same event path as Stripe's — or ends those cancelled at period
 * end. Event ids are derived from the period, so running twice renews once. Returns how many it settled.
 */
export async function renewTestSubscriptions(deps: Deps, now: Date): Promise<number> {
  const due = await db(deps.orm.em.fork())
    .selectFrom('subscriptions as s')
    .innerJoin('orders as o', 'o.id', 's.first_order_id')
    .innerJoin('community_tiers as t', 't.id', 's.tier_id')
    .select([
      's.id',
      's.provider_subscription_id',
      's.status',
      's.current_period_end',
      's.cancel_at_period_end',
      'o.subtotal_minor',
      'o.tax_minor',
      'o.tax_inclusive',
      'o.currency',
      't.interval',
    ])
    .where('s.provider', '=', 'test')
    .where('s.status', 'in', ['active', 'past_due', 'canceled'])
    .where('s.current_period_end', '<=', now)
    .where('s.provider_subscription_id', 'is not', null)
    .orderBy('s.current_period_end')
    .limit(500)
    .execute();
  let settled = 0;
  for (const s of due) {
    const ended = s.current_period_end!;
    const key = `${s.id}_${ended.getTime()}`;
    if (s.cancel_at_period_end || s.status === 'canceled') {
      await processPaymentEvent(deps, {
        id: `test_evt_end_${key}`,
        provider: 'test',
        type: 'subscription.deleted',
        subscriptionId: s.provider_subscription_id!,
        status: 'ended',
        currentPeriodEnd: ended.toISOString(),
        cancelAtPeriodEnd: true,
      });
    } else {
      await processPaymentEvent(deps, {
        id: `test_evt_renew_${key}`,
        provider: 'test',
        type: 'invoice.paid',
        subscriptionId: s.provider_subscription_id!,
        invoiceId: `test_in_${key}`,
        paymentId: `test_pi_renew_${key}`,
        // The list price again (a first-order coupon is not repeated), tax as first charged.
        amountMinor: s.subtotal_minor + (s.tax_inclusive ? 0 : s.tax_minor),
        currency: s.currency,
        periodEnd: periodEnd(ended, s.interval).toISOString(),
        billingReason: 'subscription_cycle',
      });
    }
    settled++;
  }
  return settled;
}
