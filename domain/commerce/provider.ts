/*
 * One payment-provider interface, two implementations: Stripe (stripeProvider.ts, when STRIPE_SECRET_KEY is set) and
 * test payments (testProvider.ts, the embedded default, refused in production). Whatever the provider, what happens to
 * a payment reaches us as a `PaymentEvent` — normalised from Stripe's webhook events, or made by the test payment
 * page — and goes through one path (paymentEvents.ts), so the test provider exercises the same fulfilment as Stripe.
 */

export type ProviderName = 'stripe' | 'test';

export interface CreatePaymentInput {
  orderId: string;
  buyerId: string;
  amountMinor: number;
  currency: string;
  description: string;
}

export interface CreatedPayment {
  paymentId: string;
  /** Stripe's client secret for the Payment Element; null for test payments. */
  clientSecret: string | null;
}

export type ProviderPaymentStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

/** A payment as the provider knows it now (reconciliation, and refunds that arrive before the payment). */
export interface ProviderPayment {
  paymentId: string;
  status: ProviderPaymentStatus;
  amountMinor: number;
  currency: string;
  /** From the metadata we attached at creation; null when absent (never trust a payment without it). */
  orderId: string | null;
  buyerId: string | null;
  failureReason: string | null;
}

export interface RefundRequest {
  paymentId: string;
  orderId: string;
  amountMinor: number;
  /** Our refund id: the provider's idempotency key, so a retried request refunds once. */
  refundId: string;
  reason: string;
}

export interface ProviderRefund {
  providerRefundId: string;
  status: 'pending' | 'succeeded' | 'failed';
}

export interface SubscriptionRequest {
  orderId: string;
  buyerId: string;
  customerId: string;
  tier: { id: string; name: string; priceMinor: number; currency: string; interval: 'month' | 'year'; providerPriceId: string | null };
}

export interface CreatedSubscription {
  subscriptionId: string;
  /** The first invoice's payment (Stripe: its PaymentIntent), confirmed like any payment. */
  paymentId: string | null;
  clientSecret: string | null;
  currentPeriodEnd: Date | null;
  /** The provider's recurring price for the tier, created on first use; stored on the tier for the next buyer. */
  providerPriceId: string | null;
}

/** A subscription as the provider knows it now (reconciliation of subscriptions whose period passed unannounced). */
export interface ProviderSubscription {
  subscriptionId: string;
  /** `ended`: over for good (Stripe: canceled and ended). */
  status: 'incomplete' | 'active' | 'past_due' | 'canceled' | 'ended';
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
}

export interface PaymentProvider {
  readonly name: ProviderName;
  createPayment(input: CreatePaymentInput): Promise<CreatedPayment>;
  retrievePayment(paymentId: string): Promise<ProviderPayment>;
  /** Cancels a payment nobody completed (checkout expired); a payment already settled is left as it is. */
  cancelPayment(paymentId: string): Promise<void>;
  refund(request: RefundRequest): Promise<ProviderRefund>;
  /** The provider's customer for a user, created on first use (subscriptions need one). */
  createCustomer(user: { userId: string; email: string; displayName: string }): Promise<string>;
  createSubscription(request: SubscriptionRequest): Promise<CreatedSubscription>;
  retrieveSubscription(subscriptionId: string): Promise<ProviderSubscription>;
  /** At period end (the member keeps what they paid for) or at once. */
  cancelSubscription(subscriptionId: string, options: { atPeriodEnd: boolean }): Promise<void>;
}

/*
 * What the provider tells us happened. `id` is the provider's event id (Stripe: evt_…; test payments: one per click),
 * recorded in payment_events in the transaction of the event's effect.
 */
interface EventBase {
  id: string;
  provider: ProviderName;
}

export type PaymentEvent =
  | (EventBase & {
      type: 'payment.succeeded' | 'payment.failed' | 'payment.canceled';
      paymentId: string;
      /** From the payment's metadata: fulfilment checks them against the order, with the amount and currency. */
      orderId: string | null;
      buyerId: string | null;
      amountMinor: number;
      currency: string;
      failureReason: string | null;
    })
  | (EventBase & {
      type: 'refund.updated';
      paymentId: string;
      /** Every refund of the payment the event carries (Stripe's charge.refunded lists them all). */
      refunds: Array<{ providerRefundId: string; amountMinor: number; currency: string; status: 'pending' | 'succeeded' | 'failed'; refundId: string | null }>;
    })
  | (EventBase & {
      type: 'dispute.created' | 'dispute.closed';
      paymentId: string;
      disputeId: string;
      amountMinor: number;
      currency: string;
      /** `won` / `lost` once closed. */
      status: 'open' | 'won' | 'lost';
      reason: string;
    })
  | (EventBase & {
      type: 'invoice.paid' | 'invoice.payment_failed';
      subscriptionId: string;
      invoiceId: string;
      paymentId: string | null;
      amountMinor: number;
      currency: string;
      /** End of the period this invoice pays for (ISO 8601: events travel through the job queue as JSON). */
      periodEnd: string | null;
      /** `subscription_create` for the first invoice, `subscription_cycle` for renewals. */
      billingReason: string | null;
    })
  | (EventBase & {
      type: 'subscription.updated' | 'subscription.deleted';
      subscriptionId: string;
      status: 'incomplete' | 'active' | 'past_due' | 'canceled' | 'ended';
      /** ISO 8601. */
      currentPeriodEnd: string | null;
      cancelAtPeriodEnd: boolean;
    });

export type PaymentEventType = PaymentEvent['type'];
