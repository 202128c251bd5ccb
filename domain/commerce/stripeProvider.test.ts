import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseForm, startStripeFake, type StripeFake } from '../../test/stripeFake.ts';
import { AppError } from '../shared/errors.ts';
import type { PaymentProvider } from './provider.ts';
import { toPaymentEvent, verifyStripeEvent } from './stripeEvents.ts';
import { createStripeProvider } from './stripeProvider.ts';
import Stripe from 'stripe';

const SECRET_KEY = 'sk_test_51EdulureSecretKeyNeverShown0123456789';

let fake: StripeFake;
let stripe: PaymentProvider;
beforeAll(async () => {
  fake = await startStripeFake();
  // No retries here, so each planned failure is seen as it is; the SDK's own retries are covered once below.
  stripe = createStripeProvider({ secretKey: SECRET_KEY, apiUrl: fake.url, maxNetworkRetries: 0 });
});
afterAll(async () => {
  await fake?.close();
});

const payment = (overrides: Partial<Parameters<PaymentProvider['createPayment']>[0]> = {}) => ({
  orderId: randomUUID(),
  buyerId: randomUUID(),
  amountMinor: 4900,
  currency: 'EUR',
  description: 'Course: Watercolour basics',
  ...overrides,
});

describe('Stripe payments through the SDK', () => {
  it('creates a PaymentIntent for the order — amount, lower-case currency, automatic methods, metadata — once per order', async () => {
    const input = payment();
    const created = await stripe.createPayment(input);
    expect(created.paymentId).toMatch(/^pi_/);
    expect(created.clientSecret).toMatch(new RegExp(`^${created.paymentId}_secret_`));

    const [request] = fake.requests.filter((r) => r.path === '/v1/payment_intents' && r.form.metadata?.orderId === input.orderId);
    expect(request!.form).toEqual({
      amount: '4900',
      currency: 'eur',
      automatic_payment_methods: { enabled: 'true' },
      description: 'Course: Watercolour basics',
      metadata: { orderId: input.orderId, buyerId: input.buyerId },
    });
    expect(request!.idempotencyKey).toBe(input.orderId);
    expect(request!.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);

    // A retried checkout of the same order: the same key, so the same PaymentIntent.
    const again = await stripe.createPayment(input);
    expect(again).toEqual(created);
    expect([...fake.intents.values()].filter((i) => i.metadata.orderId === input.orderId)).toHaveLength(1);
  });

  it('reads a payment back: pending, failed after a decline, succeeded with the amount received, canceled', async () => {
    const input = payment({ amountMinor: 1250, currency: 'USD' });
    const { paymentId } = await stripe.createPayment(input);
    const expected = { paymentId, amountMinor: 1250, currency: 'USD', orderId: input.orderId, buyerId: input.buyerId };
    expect(await stripe.retrievePayment(paymentId)).toEqual({ ...expected, status: 'pending', failureReason: null });

    fake.decline(paymentId, 'Your card has insufficient funds.');
    expect(await stripe.retrievePayment(paymentId)).toEqual({ ...expected, status: 'failed', failureReason: 'Your card has insufficient funds.' });

    fake.succeed(paymentId);
    expect(await stripe.retrievePayment(paymentId)).toEqual({ ...expected, status: 'succeeded', failureReason: null });
    // Cancelling a payment that already succeeded leaves it as it is, without an error.
    await stripe.cancelPayment(paymentId);
    expect(fake.intents.get(paymentId)!.status).toBe('succeeded');

    const other = await stripe.createPayment(payment());
    await stripe.cancelPayment(other.paymentId);
    expect((await stripe.retrievePayment(other.paymentId)).status).toBe('canceled');
    await stripe.cancelPayment(other.paymentId);

    await expect(stripe.retrievePayment('pi_unknown')).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('refunds with our refund id as the idempotency key and in the metadata', async () => {
    const input = payment({ amountMinor: 3000 });
    const { paymentId } = await stripe.createPayment(input);
    fake.succeed(paymentId);
    const refundId = randomUUID();
    const request = { paymentId, orderId: input.orderId, amountMinor: 1000, refundId, reason: 'Changed my mind' };
    const refund = await stripe.refund(request);
    expect(refund).toEqual({ providerRefundId: expect.stringMatching(/^re_/), status: 'succeeded' });
    // Retried: the same refund, not a second one.
    expect(await stripe.refund(request)).toEqual(refund);
    const sent = fake.requestsTo('POST', '/v1/refunds').filter((r) => r.form.metadata?.refundId === refundId);
    expect(sent).toHaveLength(2);
    expect(sent.map((r) => r.idempotencyKey)).toEqual([`refund:${refundId}`, `refund:${refundId}`]);
    expect(sent[0]!.form).toEqual({
      payment_intent: paymentId,
      amount: '1000',
      reason: 'requested_by_customer',
      metadata: { refundId, orderId: input.orderId },
    });
    // More than what is left: Stripe refuses, and so do we.
    await expect(stripe.refund({ ...request, refundId: randomUUID(), amountMinor: 2500 })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('subscribes: a customer per user, a recurring price made once, the first invoice’s payment to confirm', async () => {
    const userId = randomUUID();
    const customerId = await stripe.createCustomer({ userId, email: 'ada@example.com', displayName: 'Ada' });
    expect(customerId).toMatch(/^cus_/);
    expect(await stripe.createCustomer({ userId, email: 'ada@example.com', displayName: 'Ada' })).toBe(customerId);
    const customerRequest = fake.requestsTo('POST', '/v1/customers').find((r) => r.form.metadata?.userId === userId)!;
    expect(customerRequest.idempotencyKey).toBe(`customer:${userId}`);
    expect(customerRequest.form).toEqual({ email: 'ada@example.com', name: 'Ada', metadata: { userId } });

    const tier = { id: randomUUID(), name: 'Supporters', priceMinor: 900, currency: 'EUR', interval: 'month' as const, providerPriceId: null };
    const orderId = randomUUID();
    const created = await stripe.createSubscription({ orderId, buyerId: userId, customerId, tier });
    expect(created.subscriptionId).toMatch(/^sub_/);
    expect(created.providerPriceId).toMatch(/^price_/);
    expect(created.paymentId).toMatch(/^pi_/);
    expect(created.clientSecret).toBe(fake.intents.get(created.paymentId!)!.client_secret);
    expect(created.currentPeriodEnd!.getTime()).toBeGreaterThan(Date.now() + 27 * 24 * 3600_000);

    const priceRequest = fake.requestsTo('POST', '/v1/prices').find((r) => r.form.metadata?.tierId === tier.id)!;
    expect(priceRequest.form).toMatchObject({
      currency: 'eur',
      unit_amount: '900',
      recurring: { interval: 'month' },
      product_data: { name: 'Supporters', metadata: { tierId: tier.id } },
    });
    const subscriptionRequest = fake.requestsTo('POST', '/v1/subscriptions').find((r) => r.form.metadata?.orderId === orderId)!;
    expect(subscriptionRequest.idempotencyKey).toBe(`subscription:${orderId}`);
    expect(subscriptionRequest.form).toEqual({
      customer: customerId,
      items: [{ price: created.providerPriceId }],
      payment_behavior: 'default_incomplete',
      payment_settings: { save_default_payment_method: 'on_subscription' },
      expand: ['latest_invoice.confirmation_secret', 'latest_invoice.payments'],
      metadata: { orderId, buyerId: userId, tierId: tier.id },
    });

    // The next buyer reuses the stored price.
    const pricesBefore = fake.requestsTo('POST', '/v1/prices').length;
    const second = await stripe.createSubscription({ orderId: randomUUID(), buyerId: userId, customerId, tier: { ...tier, providerPriceId: created.providerPriceId } });
    expect(second.providerPriceId).toBe(created.providerPriceId);
    expect(fake.requestsTo('POST', '/v1/prices')).toHaveLength(pricesBefore);

    await stripe.cancelSubscription(created.subscriptionId, { atPeriodEnd: true });
    expect(fake.subscriptions.get(created.subscriptionId)).toMatchObject({ cancel_at_period_end: true, status: 'incomplete' });
    await stripe.cancelSubscription(second.subscriptionId, { atPeriodEnd: false });
    expect(fake.subscriptions.get(second.subscriptionId)!.status).toBe('canceled');
  });

  it('Stripe failures become our error codes, and the secret key never appears in them', async () => {
    fake.failNext(1, { status: 401, error: { type: 'invalid_request_error', message: `Invalid API Key provided: ${SECRET_KEY}` } });
    const auth = await stripe.createPayment(payment()).catch((err: unknown) => err);
    expect(auth).toBeInstanceOf(AppError);
    expect(auth).toMatchObject({ code: 'unavailable' });
    expect((auth as AppError).message).not.toContain(SECRET_KEY);

    fake.failNext(1, { status: 400, error: { type: 'invalid_request_error', code: 'amount_too_small', message: `Amount must be at least €0.50 eur (key ${SECRET_KEY})` } });
    const invalid = (await stripe.createPayment(payment({ amountMinor: 10 })).catch((err: unknown) => err)) as AppError;
    expect(invalid).toMatchObject({ code: 'invalid_input', details: { stripeCode: 'amount_too_small' } });
    expect(invalid.message).toContain('Amount must be at least');
    expect(invalid.message).not.toContain(SECRET_KEY);
    expect(JSON.stringify(invalid.toBody())).not.toMatch(/sk_test_/);

    fake.failNext(1, { status: 402, error: { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' } });
    await expect(stripe.createPayment(payment())).rejects.toMatchObject({ code: 'conflict' });

    fake.failNext(1);
    const down = (await stripe.createPayment(payment()).catch((err: unknown) => err)) as AppError;
    expect(down).toMatchObject({ code: 'unavailable', retryAfter: 5 });
    expect(down.message).not.toContain(SECRET_KEY);

    // Nobody listening at all.
    const unreachable = createStripeProvider({ secretKey: SECRET_KEY, apiUrl: 'http://127.0.0.1:9', maxNetworkRetries: 0 });
    const refused = (await unreachable.retrievePayment('pi_x').catch((err: unknown) => err)) as AppError;
    expect(refused).toMatchObject({ code: 'unavailable' });
    expect(refused.message).not.toContain(SECRET_KEY);
  });

  it('a 5xx is retried with the same idempotency key, so the order still gets one PaymentIntent', async () => {
    const retrying = createStripeProvider({ secretKey: SECRET_KEY, apiUrl: fake.url, maxNetworkRetries: 2 });
    const input = payment();
    fake.failNext(1);
    const created = await retrying.createPayment(input);
    const attempts = fake.requestsTo('POST', '/v1/payment_intents').filter((r) => r.idempotencyKey === input.orderId);
    expect(attempts).toHaveLength(2);
    expect([...fake.intents.values()].filter((i) => i.metadata.orderId === input.orderId).map((i) => i.id)).toEqual([created.paymentId]);
  });
});

describe('Stripe events as payment events', () => {
  it('payment_intent.succeeded / payment_failed / canceled', async () => {
    const input = payment({ amountMinor: 4900 });
    const { paymentId } = await stripe.createPayment(input);
    const failed = fake.decline(paymentId, 'Your card was declined.');
    expect(toPaymentEvent(failed)).toEqual({
      id: failed.id,
      provider: 'stripe',
      type: 'payment.failed',
      paymentId,
      orderId: input.orderId,
      buyerId: input.buyerId,
      amountMinor: 4900,
      currency: 'EUR',
      failureReason: 'Your card was declined.',
    });
    const succeeded = fake.succeed(paymentId);
    expect(toPaymentEvent(succeeded)).toEqual({
      id: succeeded.id,
      provider: 'stripe',
      type: 'payment.succeeded',
      paymentId,
      orderId: input.orderId,
      buyerId: input.buyerId,
      amountMinor: 4900,
      currency: 'EUR',
      failureReason: null,
    });
    const canceled = fake.intentEvent('payment_intent.canceled', paymentId, { status: 'canceled', cancellation_reason: 'abandoned', metadata: {} });
    expect(toPaymentEvent(canceled)).toMatchObject({ type: 'payment.canceled', orderId: null, buyerId: null, failureReason: 'abandoned' });
  });

  it('refunds: each refund.* event, and charge.refunded when it lists them (ignored when it does not)', async () => {
    const input = payment({ amountMinor: 6000, currency: 'GBP' });
    const { paymentId } = await stripe.createPayment(input);
    fake.succeed(paymentId);
    const refundId = randomUUID();
    const { providerRefundId } = await stripe.refund({ paymentId, orderId: input.orderId, amountMinor: 2000, refundId, reason: '' });
    const entry = { providerRefundId, amountMinor: 2000, currency: 'GBP', status: 'succeeded', refundId };

    const created = fake.refundEvent('refund.created', providerRefundId);
    expect(toPaymentEvent(created)).toEqual({ id: created.id, provider: 'stripe', type: 'refund.updated', paymentId, refunds: [entry] });
    const failed = fake.refundEvent('refund.failed', providerRefundId, { status: 'failed', failure_reason: 'expired_or_canceled_card' });
    expect(toPaymentEvent(failed)).toMatchObject({ type: 'refund.updated', refunds: [{ ...entry, status: 'failed' }] });
    const pending = fake.refundEvent('refund.updated', providerRefundId, { status: 'pending' });
    expect(toPaymentEvent(pending)).toMatchObject({ refunds: [{ ...entry, status: 'pending' }] });
    fake.refundEvent('refund.updated', providerRefundId, { status: 'succeeded' });

    // One made in Stripe's dashboard: no refund id of ours.
    const outside = await stripe.refund({ paymentId, orderId: input.orderId, amountMinor: 500, refundId: randomUUID(), reason: '' });
    const outsideEvent = fake.refundEvent('refund.created', outside.providerRefundId, { metadata: {} });
    expect(toPaymentEvent(outsideEvent)).toMatchObject({ refunds: [{ providerRefundId: outside.providerRefundId, refundId: null, amountMinor: 500 }] });

    const listed = fake.chargeRefunded(paymentId, { withRefunds: true });
    expect(toPaymentEvent(listed)).toMatchObject({
      type: 'refund.updated',
      paymentId,
      refunds: [entry, { providerRefundId: outside.providerRefundId, amountMinor: 500, refundId: null }],
    });
    expect(toPaymentEvent(fake.chargeRefunded(paymentId))).toBeNull();
  });

  it('disputes: opened, then won or lost', async () => {
    const input = payment({ amountMinor: 4900 });
    const { paymentId } = await stripe.createPayment(input);
    fake.succeed(paymentId);
    const opened = fake.dispute('created', paymentId, { disputeId: 'dp_1', reason: 'product_not_received' });
    expect(toPaymentEvent(opened)).toEqual({
      id: opened.id,
      provider: 'stripe',
      type: 'dispute.created',
      paymentId,
      disputeId: 'dp_1',
      amountMinor: 4900,
      currency: 'EUR',
      status: 'open',
      reason: 'product_not_received',
    });
    expect(toPaymentEvent(fake.dispute('closed', paymentId, { disputeId: 'dp_1', status: 'won' }))).toMatchObject({ type: 'dispute.closed', status: 'won' });
    expect(toPaymentEvent(fake.dispute('closed', paymentId, { disputeId: 'dp_1', status: 'lost' }))).toMatchObject({ type: 'dispute.closed', status: 'lost' });
    expect(toPaymentEvent(fake.dispute('closed', paymentId, { status: 'warning_closed' }))).toMatchObject({ status: 'won' });
  });

  it('invoices and subscriptions', async () => {
    const userId = randomUUID();
    const customerId = await stripe.createCustomer({ userId, email: 'grace@example.com', displayName: 'Grace' });
    const tier = { id: randomUUID(), name: 'Patrons', priceMinor: 9900, currency: 'EUR', interval: 'year' as const, providerPriceId: null };
    const created = await stripe.createSubscription({ orderId: randomUUID(), buyerId: userId, customerId, tier });
    const paid = fake.invoicePaid(created.subscriptionId);
    const invoice = fake.invoices.get(fake.subscriptions.get(created.subscriptionId)!.latest_invoice)!;
    expect(toPaymentEvent(paid)).toEqual({
      id: paid.id,
      provider: 'stripe',
      type: 'invoice.paid',
      subscriptionId: created.subscriptionId,
      invoiceId: invoice.id,
      // Webhooks carry the invoice without its payments; the subscription's first payment is known from creation.
      paymentId: null,
      amountMinor: 9900,
      currency: 'EUR',
      periodEnd: created.currentPeriodEnd!.toISOString(),
      billingReason: 'subscription_create',
    });
    const withPayments = fake.event('invoice.payment_failed', { ...invoice, amount_due: 9900, billing_reason: 'subscription_cycle' });
    expect(toPaymentEvent(withPayments)).toMatchObject({ type: 'invoice.payment_failed', paymentId: created.paymentId, amountMinor: 9900, billingReason: 'subscription_cycle' });
    // An invoice of no subscription (a one-off invoice made in the dashboard) concerns no order here.
    expect(toPaymentEvent(fake.event('invoice.paid', { ...invoice, parent: null, lines: { object: 'list', data: [] } }))).toBeNull();

    const statuses = [
      ['active', 'active'],
      ['trialing', 'active'],
      ['past_due', 'past_due'],
      ['unpaid', 'past_due'],
      ['incomplete', 'incomplete'],
      ['incomplete_expired', 'incomplete'],
      ['canceled', 'canceled'],
    ] as const;
    for (const [stripeStatus, ours] of statuses) {
      const updated = fake.subscriptionEvent('updated', created.subscriptionId, { status: stripeStatus, cancel_at_period_end: stripeStatus === 'active' });
      expect(toPaymentEvent(updated), stripeStatus).toEqual({
        id: updated.id,
        provider: 'stripe',
        type: 'subscription.updated',
        subscriptionId: created.subscriptionId,
        status: ours,
        currentPeriodEnd: created.currentPeriodEnd!.toISOString(),
        cancelAtPeriodEnd: stripeStatus === 'active',
      });
    }
    expect(toPaymentEvent(fake.subscriptionEvent('deleted', created.subscriptionId))).toMatchObject({ type: 'subscription.deleted', status: 'ended' });
  });

  it('types that concern no order are ignored; only a signature made with the secret verifies', () => {
    expect(toPaymentEvent(fake.event('customer.created', { id: 'cus_1', object: 'customer' }))).toBeNull();
    expect(toPaymentEvent(fake.event('payment_intent.created', { id: 'pi_1', object: 'payment_intent' }))).toBeNull();

    const event = fake.event('customer.created', { id: 'cus_1', object: 'customer' });
    const payload = JSON.stringify(event);
    const secret = 'whsec_test_secret';
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
    expect(verifyStripeEvent(Buffer.from(payload), signature, secret)?.id).toBe(event.id);
    expect(verifyStripeEvent(Buffer.from(payload), signature, 'whsec_other')).toBeNull();
    expect(verifyStripeEvent(Buffer.from(payload.replace('cus_1', 'cus_2')), signature, secret)).toBeNull();
    expect(verifyStripeEvent(Buffer.from(payload), undefined, secret)).toBeNull();
    const stale = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(verifyStripeEvent(Buffer.from(payload), stale, secret)).toBeNull();
  });

  it('the fake parses nested form keys as Stripe sends them', () => {
    expect(parseForm('a=1&metadata%5BorderId%5D=x&items%5B0%5D%5Bprice%5D=p&expand%5B0%5D=e1&expand%5B1%5D=e2')).toEqual({
      a: '1',
      metadata: { orderId: 'x' },
      items: [{ price: 'p' }],
      expand: ['e1', 'e2'],
    });
  });
});
