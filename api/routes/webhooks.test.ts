import { sql } from 'kysely';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CheckoutResponse, OrderDto, TierDto } from '../../contracts/commerce.ts';
import type { CourseDetailDto } from '../../contracts/courses.ts';
import { toPaymentEvent } from '../../domain/commerce/stripeEvents.ts';
import { reconcileProviderSubscriptions } from '../../domain/commerce/subscriptionSweep.ts';
import { seedWorld } from '../../test/communities.ts';
import { publishedCourse } from '../../test/courseFactories.ts';
import { api, call, ok, registerUsers } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { signStripeEvent, startStripeFake, type StripeFake } from '../../test/stripeFake.ts';

const WEBHOOK_SECRET = 'whsec_edulureWebhookTestSecret0123456789';

let fake: StripeFake;
let node: RunningNode;
beforeAll(async () => {
  fake = await startStripeFake();
  node = await startNode({
    env: {
      STRIPE_SECRET_KEY: 'sk_test_edulureWebhookTests0123456789',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_edulureWebhookTests0123456789',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_URL: fake.url,
    },
  });
});
afterAll(async () => {
  await node?.close();
  await fake?.close();
});

/** POSTs the event as Stripe does: its JSON, `application/json; charset=utf-8`, and a Stripe-Signature header. */
async function deliver(event: unknown, options: { secret?: string; signature?: string | null; payload?: string } = {}) {
  const signed = signStripeEvent(event, options.secret ?? WEBHOOK_SECRET);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' };
  const signature = options.signature === undefined ? signed.signature : options.signature;
  if (signature !== null) headers['stripe-signature'] = signature;
  return api(node.url, 'POST', '/api/v1/webhooks/stripe', { rawBody: options.payload ?? signed.payload, headers });
}

/** The 'payments.event' job queued under the event's id, while it waits or runs (done jobs leave the queue). */
async function queuedJob(eventId: string) {
  const { rows } = await sql<{ task: string; payload: unknown }>`
    select t.identifier as task, j.payload
    from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
    where j.key = ${eventId}
  `.execute(dbOf(node));
  return rows[0] ?? null;
}

const processed = (eventId: string) => dbOf(node).selectFrom('payment_events').selectAll().where('id', '=', eventId).executeTakeFirst();

describe('POST /webhooks/stripe', () => {
  it('refuses what Stripe did not sign — a wrong secret, a changed body, no signature, a stale one — and records nothing', async () => {
    const event = fake.event('payment_intent.succeeded', { id: 'pi_forged', object: 'payment_intent', amount: 100, amount_received: 100, currency: 'eur', metadata: {} });
    const signed = signStripeEvent(event, WEBHOOK_SECRET);
    const stale = signStripeEvent(event, WEBHOOK_SECRET, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    const attempts = [
      await deliver(event, { secret: 'whsec_notOurs' }),
      await deliver(event, { signature: signed.signature, payload: signed.payload.replace('"amount": 100', '"amount": 1') }),
      await deliver(event, { signature: null }),
      await deliver(event, { signature: 'garbage' }),
      await deliver(event, { signature: stale.signature, payload: stale.payload }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'invalid_input', message: 'The Stripe signature does not verify.' } });
    }
    expect(await queuedJob(event.id)).toBeNull();
    expect(await processed(event.id)).toBeUndefined();
  });

  it('acknowledges a type that concerns no order without queueing it', async () => {
    const event = fake.event('customer.created', { id: 'cus_123', object: 'customer', email: 'a@example.com', metadata: {} });
    const res = await deliver(event);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, ignored: true });
    expect(await queuedJob(event.id)).toBeNull();
  });

  it('queues a signed event as a payments.event job keyed by its id, in our shape, and answers at once', async () => {
    // A subscription nobody here knows: whatever processing decides, the job carries the normalised event.
    const event = fake.event('customer.subscription.deleted', {
      id: 'sub_nobody',
      object: 'subscription',
      status: 'canceled',
      cancel_at_period_end: false,
      items: { object: 'list', data: [{ id: 'si_1', object: 'subscription_item', current_period_end: 1_900_000_000 }] },
      metadata: {},
    });
    const res = await deliver(event);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true });
    const expected = toPaymentEvent(event as Stripe.Event);
    expect(expected).toMatchObject({ id: event.id, type: 'subscription.deleted', status: 'ended', currentPeriodEnd: new Date(1_900_000_000_000).toISOString() });
    // Caught while queued, or already processed by the node's job runner (a finished job leaves the queue).
    await vi.waitFor(
      async () => {
        const job = await queuedJob(event.id);
        if (job) {
          expect(job).toEqual({ task: 'payments.event', payload: { event: expected } });
          return;
        }
        expect(await processed(event.id)).toMatchObject({ id: event.id, provider: 'stripe', type: 'subscription.deleted' });
      },
      { timeout: 5000, interval: 50 },
    );
  });
});

/*
 * Buying through Stripe end to end: checkout (POST /checkout) and fulfilment (processPaymentEvent) are the commerce
 * module's; this proves the Stripe side of them against the loopback fake.
 */
describe('buying a course with Stripe (checkout → PaymentIntent → signed webhook → fulfilment)', () => {
  async function checkout() {
    const { course } = await publishedCourse(node, { lessons: 1, course: { priceMinor: 4900, currency: 'EUR' } });
    const [buyer] = await registerUsers(node.url, 1);
    const res = await ok(call<CheckoutResponse>(node, 'POST', '/checkout', buyer, { productId: course.id }), 201);
    const intent = [...fake.intents.values()].find((i) => i.metadata.orderId === res.order.id)!;
    return { course, buyer, order: res.order, payment: res.payment, intent };
  }

  const orderOf = (buyer: { accessToken: string }, orderId: string) => ok(call<OrderDto>(node, 'GET', `/orders/${orderId}`, buyer));
  const entitlementsOf = (userId: string, courseId: string) =>
    dbOf(node).selectFrom('entitlements').select(['source', 'order_id', 'revoked_at']).where('user_id', '=', userId).where('resource_id', '=', courseId).execute();
  const ledgerOf = (orderId: string) => dbOf(node).selectFrom('ledger_entries').select(['posting_id', 'kind', 'account', 'amount_minor']).where('order_id', '=', orderId).execute();

  it('a PaymentIntent for the order; the signed success unlocks the course once, however often it is delivered', async () => {
    const { course, buyer, order, payment, intent } = await checkout();
    expect(order).toMatchObject({ status: 'pending', provider: 'stripe', totalMinor: 4900, currency: 'EUR' });
    expect(payment).toEqual({ provider: 'stripe', clientSecret: intent.client_secret, publishableKey: 'pk_test_edulureWebhookTests0123456789' });
    const created = fake.requestsTo('POST', '/v1/payment_intents').filter((r) => r.form.metadata?.orderId === order.id);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(created[0]!.idempotencyKey).toBe(order.id);
    expect(created[0]!.form).toMatchObject({
      amount: '4900',
      currency: 'eur',
      automatic_payment_methods: { enabled: 'true' },
      metadata: { orderId: order.id, buyerId: buyer.user.id },
    });

    const succeeded = fake.succeed(intent.id);
    expect((await deliver(succeeded)).status).toBe(200);
    await vi.waitFor(async () => expect((await orderOf(buyer, order.id)).status).toBe('paid'), { timeout: 10_000, interval: 100 });
    expect(await entitlementsOf(buyer.user.id, course.id)).toEqual([{ source: 'order', order_id: order.id, revoked_at: null }]);
    const page = await ok(call<CourseDetailDto>(node, 'GET', `/courses/${course.id}`, buyer));
    expect(page.course.me).toMatchObject({ canLearn: true });

    // Stripe redelivers (a lost acknowledgement): processed once — one payment posting in the ledger.
    expect((await deliver(succeeded)).status).toBe(200);
    await vi.waitFor(async () => expect(await queuedJob(succeeded.id)).toBeNull(), { timeout: 10_000, interval: 100 });
    const postings = new Set((await ledgerOf(order.id)).filter((e) => e.kind === 'payment').map((e) => e.posting_id));
    expect(postings.size).toBe(1);
    expect(await processed(succeeded.id)).toMatchObject({ order_id: order.id });
  });

  it('a delivery whose processing failed is processed again when Stripe retries it (never dropped as a duplicate)', async () => {
    const { course, buyer, order, intent } = await checkout();
    const q = dbOf(node);
    const name = `refuse_${order.id.replaceAll('-', '_')}`;
    // The database refuses this buyer's entitlement: the first delivery's processing fails half-way and rolls back.
    await sql
      .raw(
        `create function ${name}() returns trigger language plpgsql as $$ begin
           if new.user_id = '${buyer.user.id}' then raise exception 'entitlements unavailable'; end if;
           return new;
         end $$;
         create trigger ${name} before insert on entitlements for each row execute function ${name}();`,
      )
      .execute(q);
    const succeeded = fake.succeed(intent.id);
    try {
      expect((await deliver(succeeded)).status).toBe(200);
      const failedJob = () =>
        sql<{ attempts: number; last_error: string | null }>`
          select attempts, last_error from graphile_worker._private_jobs where key = ${succeeded.id}`.execute(q);
      await vi.waitFor(async () => expect((await failedJob()).rows[0]?.last_error ?? '').toMatch(/entitlements unavailable/), { timeout: 10_000, interval: 50 });
    } finally {
      await sql.raw(`drop trigger ${name} on entitlements; drop function ${name}();`).execute(q);
    }
    expect(await processed(succeeded.id)).toBeUndefined();
    expect((await orderOf(buyer, order.id)).status).toBe('pending');

    // Stripe retries the same event: it is processed, once.
    expect((await deliver(succeeded)).status).toBe(200);
    await vi.waitFor(async () => expect((await orderOf(buyer, order.id)).status).toBe('paid'), { timeout: 10_000, interval: 100 });
    expect(await processed(succeeded.id)).toMatchObject({ order_id: order.id, outcome: 'paid' });
    expect(await entitlementsOf(buyer.user.id, course.id)).toEqual([{ source: 'order', order_id: order.id, revoked_at: null }]);
    expect(new Set((await ledgerOf(order.id)).map((e) => e.posting_id)).size).toBe(1);
  });

  it('a success for another amount, or naming another order, fulfils nothing', async () => {
    const [first, second] = await Promise.all([checkout(), checkout()]);

    // The intent of the first order, reporting less money than the order's total.
    const short = fake.intentEvent('payment_intent.succeeded', first.intent.id, { status: 'succeeded', amount: 100, amount_received: 100 });
    // The first order's intent, its metadata rewritten to name the second order.
    const foreign = fake.intentEvent('payment_intent.succeeded', first.intent.id, {
      status: 'succeeded',
      amount_received: 4900,
      metadata: { orderId: second.order.id, buyerId: second.buyer.user.id },
    });
    for (const event of [short, foreign]) expect((await deliver(event)).status).toBe(200);
    for (const event of [short, foreign]) {
      await vi.waitFor(async () => expect(await processed(event.id)).toMatchObject({ order_id: first.order.id, outcome: 'mismatch' }), {
        timeout: 10_000,
        interval: 50,
      });
    }
    expect((await orderOf(first.buyer, first.order.id)).status).toBe('pending');
    expect((await orderOf(second.buyer, second.order.id)).status).toBe('pending');
    expect(await entitlementsOf(first.buyer.user.id, first.course.id)).toEqual([]);
    expect(await entitlementsOf(second.buyer.user.id, second.course.id)).toEqual([]);
    expect(await ledgerOf(first.order.id)).toEqual([]);
    expect(await ledgerOf(second.order.id)).toEqual([]);
  });
});

/*
 * A community tier through Stripe Billing: the first invoice's payment makes the buyer a member; when Stripe ends the
 * subscription and its webhook is lost, the periodic reconciliation asks Stripe and ends the membership all the same.
 */
describe('a Stripe subscription that ends without a word', () => {
  it('is found by the reconciliation, which removes the member (once)', async () => {
    const world = await seedWorld(node, { people: { owner: 'owner', buyer: null } });
    const tier = await ok(
      call<TierDto>(node, 'POST', `/communities/${world.communityId}/tiers`, world.owner, {
        name: 'Patron',
        priceMinor: 1200,
        currency: 'EUR',
        interval: 'month',
      }),
      201,
    );
    const { order, payment } = await ok(call<CheckoutResponse>(node, 'POST', '/checkout', world.buyer, { productId: tier.id }), 201);
    expect(payment).toMatchObject({ provider: 'stripe', clientSecret: expect.any(String) });
    const subscription = await dbOf(node).selectFrom('subscriptions').selectAll().where('first_order_id', '=', order.id).executeTakeFirstOrThrow();
    const isMember = async () =>
      (await dbOf(node).selectFrom('community_members').select('user_id').where('community_id', '=', world.communityId).where('user_id', '=', world.buyer.user.id).executeTakeFirst()) !==
      undefined;

    expect((await deliver(fake.invoicePaid(subscription.provider_subscription_id!))).status).toBe(200);
    await vi.waitFor(async () => expect(await isMember()).toBe(true), { timeout: 10_000, interval: 100 });
    const paid = await dbOf(node).selectFrom('subscriptions').select(['status', 'current_period_end']).where('id', '=', subscription.id).executeTakeFirstOrThrow();
    expect(paid.status).toBe('active');

    // Stripe ends it (the member cancelled, the period ran out) — and the webhook never arrives.
    fake.subscriptionEvent('deleted', subscription.provider_subscription_id!);
    const later = new Date(paid.current_period_end!.getTime() + 2 * 3600_000);
    const { deps } = node.node;
    expect(await reconcileProviderSubscriptions(deps, new Date(paid.current_period_end!.getTime() - 60_000))).toBe(0);
    expect(await isMember()).toBe(true);
    expect(await reconcileProviderSubscriptions(deps, later)).toBe(1);
    expect(await isMember()).toBe(false);
    const ended = await dbOf(node).selectFrom('subscriptions').select('status').where('id', '=', subscription.id).executeTakeFirstOrThrow();
    expect(ended.status).toBe('ended');
    const door = await dbOf(node).selectFrom('entitlements').select('revoked_at').where('user_id', '=', world.buyer.user.id).where('resource_id', '=', tier.id).execute();
    expect(door).toEqual([{ revoked_at: expect.any(Date) }]);
    // Nothing left to ask about: the next sweep settles nothing.
    expect(await reconcileProviderSubscriptions(deps, later)).toBe(0);
  });
});
