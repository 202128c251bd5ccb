import Stripe from 'stripe';
import { AppError } from '../shared/errors.ts';
import type { CreatedSubscription, PaymentProvider, ProviderPayment, ProviderPaymentStatus, ProviderRefund } from './provider.ts';

export interface StripeProviderOptions {
  secretKey: string;
  /** Another host for the API (tests point it at a loopback fake), e.g. http://127.0.0.1:12111 */
  apiUrl?: string;
  /** Retries of a request that failed on the network or with a 5xx (each write carries an idempotency key). */
  maxNetworkRetries?: number;
}

/** The SDK's client, on Stripe's host or the one `apiUrl` names. */
export function stripeClient(options: StripeProviderOptions): Stripe {
  const config: Stripe.StripeConfig = {
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: 20_000,
    telemetry: false,
  };
  if (options.apiUrl) {
    const url = new URL(options.apiUrl);
    const protocol = url.protocol === 'http:' ? 'http' : 'https';
    config.host = url.hostname;
    config.port = url.port ? Number(url.port) : protocol === 'http' ? 80 : 443;
    config.protocol = protocol;
  }
  return new Stripe(options.secretKey, config);
}

/** Stripe through the official SDK: PaymentIntents with automatic payment methods, Billing subscriptions, refunds. */
export function createStripeProvider(options: StripeProviderOptions): PaymentProvider {
  const stripe = stripeClient(options);
  const call = async <T>(action: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw toAppError(err, action, options.secretKey);
    }
  };

  return {
    name: 'stripe',

    async createPayment(input) {
      const intent = await call('create the payment', () =>
        stripe.paymentIntents.create(
          {
            amount: input.amountMinor,
            currency: input.currency.toLowerCase(),
            automatic_payment_methods: { enabled: true },
            description: input.description,
            metadata: { orderId: input.orderId, buyerId: input.buyerId },
          },
          // A retried checkout of the same order gets the same PaymentIntent, never a second charge.
          { idempotencyKey: input.orderId },
        ),
      );
      return { paymentId: intent.id, clientSecret: intent.client_secret };
    },

    async retrievePayment(paymentId): Promise<ProviderPayment> {
      const intent = await call('look up the payment', () => stripe.paymentIntents.retrieve(paymentId));
      return presentIntent(intent);
    },

    async cancelPayment(paymentId) {
      try {
        await stripe.paymentIntents.cancel(paymentId);
      } catch (err) {
        // Already succeeded or canceled: what it became is settled by its own event, not by this cancel.
        if (err instanceof Stripe.errors.StripeInvalidRequestError && err.code === 'payment_intent_unexpected_state') return;
        throw toAppError(err, 'cancel the payment', options.secretKey);
      }
    },

    async refund(request): Promise<ProviderRefund> {
      const refund = await call('refund the payment', () =>
        stripe.refunds.create(
          {
            payment_intent: request.paymentId,
            amount: request.amountMinor,
            reason: 'requested_by_customer',
            metadata: { refundId: request.refundId, orderId: request.orderId },
          },
          { idempotencyKey: `refund:${request.refundId}` },
        ),
      );
      return { providerRefundId: refund.id, status: refundStatus(refund.status) };
    },

    async createCustomer(user) {
      const customer = await call('create the customer', () =>
        stripe.customers.create(
          { email: user.email, name: user.displayName, metadata: { userId: user.userId } },
          { idempotencyKey: `customer:${user.userId}` },
        ),
      );
      return customer.id;
    },

    async createSubscription(request): Promise<CreatedSubscription> {
      const { tier } = request;
      let priceId = tier.providerPriceId;
      if (!priceId) {
        const price = await call('create the price', () =>
          stripe.prices.create(
            {
              currency: tier.currency.toLowerCase(),
              unit_amount: tier.priceMinor,
              recurring: { interval: tier.interval },
              product_data: { name: tier.name, metadata: { tierId: tier.id } },
              metadata: { tierId: tier.id },
            },
            // The key names what the price is, so a tier whose price changed gets a new Stripe price.
            { idempotencyKey: `price:${tier.id}:${tier.priceMinor}:${tier.currency}:${tier.interval}` },
          ),
        );
        priceId = price.id;
      }
      const subscription = await call('start the subscription', () =>
        stripe.subscriptions.create(
          {
            customer: request.customerId,
            items: [{ price: priceId }],
            payment_behavior: 'default_incomplete',
            payment_settings: { save_default_payment_method: 'on_subscription' },
            // The first invoice's payment: its client secret for the Payment Element, its PaymentIntent for our order.
            expand: ['latest_invoice.confirmation_secret', 'latest_invoice.payments'],
            metadata: { orderId: request.orderId, buyerId: request.buyerId, tierId: tier.id },
          },
          { idempotencyKey: `subscription:${request.orderId}` },
        ),
      );
      const invoice = typeof subscription.latest_invoice === 'object' ? subscription.latest_invoice : null;
      const clientSecret = invoice?.confirmation_secret?.client_secret ?? null;
      return {
        subscriptionId: subscription.id,
        paymentId: invoicePaymentIntentId(invoice) ?? intentIdFromSecret(clientSecret),
        clientSecret,
        currentPeriodEnd: unixDate(subscriptionPeriodEnd(subscription)),
        providerPriceId: priceId,
      };
    },

    async retrieveSubscription(subscriptionId) {
      const subscription = await call('look up the subscription', () => stripe.subscriptions.retrieve(subscriptionId));
      return {
        subscriptionId: subscription.id,
        status: subscription.status === 'canceled' && subscription.ended_at ? 'ended' : subscriptionStatus(subscription.status),
        currentPeriodEnd: unixDate(subscriptionPeriodEnd(subscription)),
        cancelAtPeriodEnd: subscription.cancel_at_period_end,
      };
    },

    async cancelSubscription(subscriptionId, { atPeriodEnd }) {
      if (atPeriodEnd) {
        await call('cancel the subscription', () => stripe.subscriptions.update(subscriptionId, { cancel_at_period_end: true }));
      } else {
        await call('cancel the subscription', () => stripe.subscriptions.cancel(subscriptionId));
      }
    },
  };
}

export function presentIntent(intent: Stripe.PaymentIntent): ProviderPayment {
  const status = intentStatus(intent);
  return {
    paymentId: intent.id,
    status,
    amountMinor: status === 'succeeded' ? intent.amount_received : intent.amount,
    currency: intent.currency.toUpperCase(),
    orderId: intent.metadata?.orderId ?? null,
    buyerId: intent.metadata?.buyerId ?? null,
    failureReason: intent.last_payment_error?.message ?? null,
  };
}

function intentStatus(intent: Stripe.PaymentIntent): ProviderPaymentStatus {
  if (intent.status === 'succeeded') return 'succeeded';
  if (intent.status === 'canceled') return 'canceled';
  // Back to requires_payment_method after an attempt: that attempt failed (the buyer may still try another card).
  if (intent.status === 'requires_payment_method' && intent.last_payment_error) return 'failed';
  return 'pending';
}

export function refundStatus(status: string | null): ProviderRefund['status'] {
  if (status === 'succeeded') return 'succeeded';
  if (status === 'failed' || status === 'canceled') return 'failed';
  return 'pending';
}

/** The PaymentIntent of an invoice's default payment, when the invoice carries its payments. */
export function invoicePaymentIntentId(invoice: Stripe.Invoice | null): string | null {
  const payments = invoice?.payments?.data ?? [];
  const payment = payments.find((p) => p.is_default) ?? payments[0];
  const intent = payment?.payment.payment_intent;
  if (!intent) return null;
  return typeof intent === 'string' ? intent : intent.id;
}

/** A PaymentIntent's client secret is `<pi id>_secret_<…>`. */
function intentIdFromSecret(secret: string | null): string | null {
  const index = secret?.indexOf('_secret_') ?? -1;
  return secret && index > 0 && secret.startsWith('pi_') ? secret.slice(0, index) : null;
}

/** Stripe's subscription statuses as ours. */
export function subscriptionStatus(status: Stripe.Subscription.Status): 'incomplete' | 'active' | 'past_due' | 'canceled' {
  switch (status) {
    case 'active':
    case 'trialing':
      return 'active';
    case 'canceled':
      return 'canceled';
    case 'incomplete':
    case 'incomplete_expired':
      return 'incomplete';
    default:
      // past_due, unpaid, paused: the member is not paid up.
      return 'past_due';
  }
}

/** The subscription's current period ends with its items' (the API keeps the period on each item). */
export function subscriptionPeriodEnd(subscription: Stripe.Subscription): number | null {
  const ends = (subscription.items?.data ?? []).map((item) => item.current_period_end).filter((end) => typeof end === 'number');
  return ends.length ? Math.max(...ends) : null;
}

export const unixDate = (seconds: number | null | undefined): Date | null => (typeof seconds === 'number' ? new Date(seconds * 1000) : null);

const SECRET_KEY_PATTERN = /\b(sk|rk)_(test|live)_[A-Za-z0-9*]+/g;

/** What the SDK threw, as one of our error codes, with a message that never carries the secret key. */
function toAppError(err: unknown, action: string, secretKey: string): Error {
  if (!(err instanceof Stripe.errors.StripeError)) return err instanceof Error ? err : new Error(String(err));
  const said = err.message.split(secretKey).join('[redacted]').replace(SECRET_KEY_PATTERN, '[redacted]');
  if (err instanceof Stripe.errors.StripeCardError) return new AppError('conflict', `The payment was declined: ${said}`);
  if (err instanceof Stripe.errors.StripeIdempotencyError) return new AppError('conflict', `Stripe could not ${action}: ${said}`);
  if (err instanceof Stripe.errors.StripeInvalidRequestError) {
    return new AppError('invalid_input', `Stripe could not ${action}: ${said}`, { details: { stripeCode: err.code ?? null } });
  }
  if (err instanceof Stripe.errors.StripeAuthenticationError || err instanceof Stripe.errors.StripePermissionError) {
    return new AppError('unavailable', 'Payments are unavailable: Stripe refused the configured key (see STRIPE_SECRET_KEY).');
  }
  if (err instanceof Stripe.errors.StripeRateLimitError) {
    return new AppError('unavailable', `Stripe is busy; could not ${action}. Please try again in a moment.`, { retryAfter: 5 });
  }
  // Connection errors, timeouts and 5xx after the SDK's retries.
  return new AppError('unavailable', `Stripe is unreachable right now; could not ${action}. Please try again in a moment.`, { retryAfter: 5 });
}
