import type { Clock } from '../shared/time.ts';
import type { PaymentProvider, ProviderPayment } from './provider.ts';

/*
 * Test payments: the embedded default when no Stripe key is configured (never in production). Nothing leaves the
 * machine: a payment is a labelled page with Pay and Decline whose clicks become the same `PaymentEvent`s Stripe's
 * webhooks become (api/routes/orders.ts → paymentEvents.ts), so `npm start` shows buying end to end through the real
 * fulfilment path. Stateless: ids carry the order id, refunds succeed at once, and what a payment became is what its
 * order records — so asking the provider about a payment nobody clicked says "pending".
 */

const PAYMENT_PREFIX = 'test_pi_';
const SUBSCRIPTION_PREFIX = 'test_sub_';

export const testPaymentId = (orderId: string) => `${PAYMENT_PREFIX}${orderId}`;
export const testSubscriptionId = (orderId: string) => `${SUBSCRIPTION_PREFIX}${orderId}`;

/** The end of a period that starts at `from`. */
export function periodEnd(from: Date, interval: 'month' | 'year'): Date {
  const end = new Date(from);
  if (interval === 'month') end.setUTCMonth(end.getUTCMonth() + 1);
  else end.setUTCFullYear(end.getUTCFullYear() + 1);
  return end;
}

export function createTestProvider(clock: Clock): PaymentProvider {
  return {
    name: 'test',
    async createPayment(input) {
      return { paymentId: testPaymentId(input.orderId), clientSecret: null };
    },
    async retrievePayment(paymentId): Promise<ProviderPayment> {
      const orderId = paymentId.startsWith(PAYMENT_PREFIX) ? paymentId.slice(PAYMENT_PREFIX.length) : null;
      // Only the page's buttons settle a test payment; they go through events, never through this answer.
      return { paymentId, status: 'pending', amountMinor: 0, currency: '', orderId, buyerId: null, failureReason: null };
    },
    async cancelPayment() {},
    async refund(request) {
      return { providerRefundId: `test_re_${request.refundId}`, status: 'succeeded' };
    },
    async createCustomer(user) {
      return `test_cus_${user.userId}`;
    },
    async createSubscription(request) {
      return {
        subscriptionId: testSubscriptionId(request.orderId),
        paymentId: testPaymentId(request.orderId),
        clientSecret: null,
        currentPeriodEnd: periodEnd(clock.now(), request.tier.interval),
        providerPriceId: null,
      };
    },
    async retrieveSubscription(subscriptionId) {
      // Test subscriptions have no billing of their own: the periodic renewal (testSubscriptions.ts) settles them.
      throw new Error(`test subscription ${subscriptionId} is settled by the periodic renewal, not looked up`);
    },
    async cancelSubscription() {},
  };
}
