import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderDto } from '../../contracts/commerce.ts';
import { checkoutAs, pricedCourse } from '../../test/commerceFactories.ts';
import { ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { orderBalance } from './ledger.ts';
import { processPaymentEvent } from './paymentEvents.ts';
import type { PaymentEvent } from './provider.ts';
import { testPaymentId } from './testProvider.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node?.close();
});

type PaymentOutcome = Extract<PaymentEvent, { type: 'payment.succeeded' | 'payment.failed' | 'payment.canceled' }>;

/** What the provider would say about `order`'s payment: its own payment id, order, buyer, total and currency. */
function paymentEvent(order: OrderDto, overrides: Partial<PaymentOutcome> = {}): PaymentOutcome {
  return {
    id: `evt_${randomUUID()}`,
    provider: 'test',
    type: 'payment.succeeded',
    paymentId: testPaymentId(order.id),
    orderId: order.id,
    buyerId: order.buyer.id,
    amountMinor: order.totalMinor,
    currency: order.currency,
    failureReason: null,
    ...overrides,
  };
}

async function pendingOrder(priceMinor = 3000): Promise<{ order: OrderDto; buyer: TestUser }> {
  const { course } = await pricedCourse(node, { priceMinor, currency: 'EUR' });
  const [buyer] = await registerUsers(node.url, 1);
  const { order } = await ok(checkoutAs(node, buyer, { productId: course.id }), 201);
  return { order, buyer };
}

const deliver = (event: PaymentEvent) => processPaymentEvent(node.node.deps, event);

async function orderState(orderId: string) {
  const q = dbOf(node);
  const order = await q.selectFrom('orders').select(['status', 'provider_payment_id']).where('id', '=', orderId).executeTakeFirstOrThrow();
  const postings = await q.selectFrom('ledger_entries').select('posting_id').distinct().where('order_id', '=', orderId).execute();
  const events = await q.selectFrom('payment_events').select(['id', 'outcome']).where('order_id', '=', orderId).orderBy('processed_at').execute();
  return { ...order, postings: postings.length, events };
}

describe('provider events', () => {
  it('the same event delivered twice, or twice at once, has one effect', async () => {
    const { order } = await pendingOrder();
    const event = paymentEvent(order);
    const [a, b] = await Promise.all([deliver(event), deliver(event)]);
    expect([a, b].map((r) => r.duplicate).sort()).toEqual([false, true]);
    expect([a, b].find((r) => !r.duplicate)).toEqual({ outcome: 'paid', orderId: order.id, duplicate: false });
    expect(await deliver(event)).toEqual({ outcome: 'duplicate', orderId: order.id, duplicate: true });
    // Another event of the same payment (a second webhook type, a retried page click) is a new id but no new effect.
    expect(await deliver(paymentEvent(order))).toMatchObject({ outcome: 'already_paid', duplicate: false });

    const state = await orderState(order.id);
    expect(state).toMatchObject({ status: 'paid', postings: 1 });
    expect(state.events).toHaveLength(2);
    expect(await orderBalance(dbOf(node), order.id)).toBe(0);
    const entitlements = await dbOf(node).selectFrom('entitlements').select('id').where('order_id', '=', order.id).execute();
    expect(entitlements).toHaveLength(1);
  });

  it('never backwards: a failure or cancelation reported after the payment succeeded leaves the order paid', async () => {
    const [{ order }, late] = await Promise.all([pendingOrder(), pendingOrder()]);
    expect((await deliver(paymentEvent(order))).outcome).toBe('paid');
    expect((await deliver(paymentEvent(order, { type: 'payment.failed', failureReason: 'card_declined' }))).outcome).toBe('ignored_settled');
    expect((await deliver(paymentEvent(order, { type: 'payment.canceled' }))).outcome).toBe('ignored_settled');
    expect(await orderState(order.id)).toMatchObject({ status: 'paid', postings: 1 });

    // And a failed order whose money arrives after all is fulfilled: the buyer paid.
    expect((await deliver(paymentEvent(late.order, { type: 'payment.failed', failureReason: 'card_declined' }))).outcome).toBe('failed');
    expect((await orderState(late.order.id)).status).toBe('failed');
    expect((await deliver(paymentEvent(late.order))).outcome).toBe('paid_late');
    expect(await orderState(late.order.id)).toMatchObject({ status: 'paid', postings: 1 });
  });

  it('a payment that does not match its order is never fulfilled: amount, currency, order, buyer or payment', async () => {
    const [{ order }, other, [stranger]] = await Promise.all([pendingOrder(3000), pendingOrder(3000), registerUsers(node.url, 1)]);
    const wrong = [
      paymentEvent(order, { amountMinor: 2999 }),
      paymentEvent(order, { currency: 'USD' }),
      paymentEvent(order, { orderId: other.order.id }),
      paymentEvent(order, { buyerId: stranger.user.id }),
    ];
    for (const event of wrong) expect(await deliver(event)).toEqual({ outcome: 'mismatch', orderId: order.id, duplicate: false });
    // Another order's metadata on a payment we do not know: that order has its own payment, so it is not this one's.
    expect(await deliver(paymentEvent(other.order, { paymentId: 'test_pi_forged' }))).toMatchObject({ outcome: 'unknown_order', orderId: null });
    expect(await deliver(paymentEvent(order, { paymentId: 'test_pi_nobody', orderId: null }))).toMatchObject({ outcome: 'unknown_order' });
    expect(await deliver(paymentEvent(order, { orderId: 'not-a-uuid', paymentId: 'test_pi_nobody' }))).toMatchObject({ outcome: 'unknown_order' });

    const state = await orderState(order.id);
    expect(state).toMatchObject({ status: 'pending', postings: 0 });
    expect(state.events.map((e) => e.outcome)).toEqual(['mismatch', 'mismatch', 'mismatch', 'mismatch']);
    expect(await orderState(other.order.id)).toMatchObject({ status: 'pending', postings: 0 });
    // The currency is compared without regard to case; the matching payment pays.
    expect((await deliver(paymentEvent(order, { currency: 'eur' }))).outcome).toBe('paid');
  });

  it('a webhook that arrives before the checkout stored its payment id finds the order by its metadata', async () => {
    const { order } = await pendingOrder();
    await dbOf(node).updateTable('orders').set({ provider_payment_id: null }).where('id', '=', order.id).execute();
    expect((await deliver(paymentEvent(order, { paymentId: 'test_pi_early' }))).outcome).toBe('paid');
    expect(await orderState(order.id)).toMatchObject({ status: 'paid', provider_payment_id: 'test_pi_early', postings: 1 });
  });

  it('an effect that fails records nothing, so the retry processes the event again', async () => {
    const { order, buyer } = await pendingOrder();
    const q = dbOf(node);
    const name = `fail_${randomUUID().replaceAll('-', '')}`;
    // The database refuses this buyer's entitlement once, half-way through fulfilment (after the order row changed).
    await sql
      .raw(
        `create function ${name}() returns trigger language plpgsql as $$ begin
           if new.user_id = '${buyer.user.id}' then raise exception 'entitlements unavailable'; end if;
           return new;
         end $$;
         create trigger ${name} before insert on entitlements for each row execute function ${name}();`,
      )
      .execute(q);
    const event = paymentEvent(order);
    try {
      await expect(deliver(event)).rejects.toThrow(/entitlements unavailable/);
    } finally {
      await sql.raw(`drop trigger ${name} on entitlements; drop function ${name}();`).execute(q);
    }
    expect(await q.selectFrom('payment_events').select('id').where('id', '=', event.id).execute()).toEqual([]);
    expect(await orderState(order.id)).toMatchObject({ status: 'pending', postings: 0 });

    expect(await deliver(event)).toEqual({ outcome: 'paid', orderId: order.id, duplicate: false });
    expect(await orderState(order.id)).toMatchObject({ status: 'paid', postings: 1, events: [{ id: event.id, outcome: 'paid' }] });
  });
});
