import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OrderDto } from '../../contracts/commerce.ts';
import { classroomCommunity, minutesFrom, scheduleClassroom } from '../../test/classroomFactories.ts';
import { checkoutAs, createCouponAs, pricedCourse } from '../../test/commerceFactories.ts';
import { ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { startStripeFake, type StripeFake } from '../../test/stripeFake.ts';
import { enqueueJob } from '../shared/jobs.ts';
import { manualClock } from '../shared/time.ts';
import { orderBalance } from './ledger.ts';
import { processPaymentEvent } from './paymentEvents.ts';
import { settlePendingOrder } from './expiry.ts';

/*
 * Checkouts nobody pays, on a clock the test moves: past the hold an order is expired (its coupon use and classroom
 * seat go back, its payment is canceled at the provider), and one paid at the provider whose webhook never came is
 * fulfilled by asking. Stripe is the loopback fake, so the provider really answers.
 */

const HOLD_MINUTES = 30;
let node: RunningNode;
let stripe: StripeFake;
const clock = manualClock(new Date());

beforeAll(async () => {
  stripe = await startStripeFake();
  node = await startNode({
    clock,
    env: {
      CHECKOUT_HOLD_MINUTES: String(HOLD_MINUTES),
      STRIPE_SECRET_KEY: 'sk_test_edulureExpiryTests0123456789',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_edulureExpiryTests0123456789',
      STRIPE_WEBHOOK_SECRET: 'whsec_edulureExpiryTests0123456789',
      STRIPE_API_URL: stripe.url,
    },
  });
});
afterAll(async () => {
  await node?.close();
  await stripe?.close();
});

async function checkout(buyer: TestUser, body: Record<string, unknown>): Promise<OrderDto> {
  return (await ok(checkoutAs(node, buyer, body), 201)).order;
}

const orderRow = (orderId: string) =>
  dbOf(node).selectFrom('orders').select(['status', 'provider_payment_id', 'failure_reason', 'closed_at']).where('id', '=', orderId).executeTakeFirstOrThrow();

/** Runs the order's expiry job now, through the queue, and waits until the order has left `pending`. */
async function expireThroughQueue(orderId: string) {
  await enqueueJob(node.node.orm.em.fork(), 'orders.expire', { orderId }, { jobKey: `orders.expire:${orderId}` });
  return vi.waitFor(
    async () => {
      const row = await orderRow(orderId);
      if (row.status === 'pending') throw new Error('still pending');
      return row;
    },
    { timeout: 10_000, interval: 50 },
  );
}

describe('expiry and reconciliation', () => {
  it('a checkout past its hold expires: coupon use and seat given back, the payment canceled; money that arrives later still pays', async () => {
    const [{ course, instructor }, { communityId, host, learners }] = await Promise.all([pricedCourse(node, { priceMinor: 4000, currency: 'EUR' }), classroomCommunity(node, 1)]);
    const coupon = await createCouponAs(node, instructor, { code: `LATE${Date.now().toString(36).toUpperCase()}`, percentOff: 25 });
    const classroom = await scheduleClassroom(node, host, communityId, { capacity: 1, priceMinor: 1500, startsAt: minutesFrom(600, clock.now()) });
    const [buyer] = await registerUsers(node.url, 1);
    const [learner] = learners as [TestUser];
    const courseOrder = await checkout(buyer, { productId: course.id, couponCode: coupon.code });
    const seatOrder = await checkout(learner, { productId: classroom.id });
    const q = dbOf(node);
    const seat = () => q.selectFrom('classroom_registrations').select('status').where('classroom_id', '=', classroom.id).where('user_id', '=', learner.user.id).executeTakeFirst();
    const couponCounts = () => q.selectFrom('coupons').select(['reserved_count', 'redeemed_count']).where('id', '=', coupon.id).executeTakeFirstOrThrow();
    expect(await seat()).toEqual({ status: 'held' });
    expect(await couponCounts()).toEqual({ reserved_count: 1, redeemed_count: 0 });

    // Within the hold the buyer may still pay: nothing happens.
    expect(await settlePendingOrder(node.node.deps, courseOrder.id)).toBe('left');
    expect((await orderRow(courseOrder.id)).status).toBe('pending');

    clock.advance((HOLD_MINUTES + 1) * 60_000);
    const [expired, seatExpired] = await Promise.all([expireThroughQueue(courseOrder.id), expireThroughQueue(seatOrder.id)]);
    expect(expired).toMatchObject({ status: 'expired', failure_reason: 'The checkout expired before it was paid.' });
    expect(expired.closed_at).toEqual(clock.now());
    expect(seatExpired.status).toBe('expired');
    expect(await seat()).toEqual({ status: 'cancelled' });
    expect(await couponCounts()).toEqual({ reserved_count: 0, redeemed_count: 0 });
    expect(await q.selectFrom('coupon_redemptions').select('status').where('order_id', '=', courseOrder.id).executeTakeFirst()).toEqual({ status: 'released' });
    const intentId = expired.provider_payment_id!;
    await vi.waitFor(() => expect(stripe.requestsTo('POST', `/v1/payment_intents/${intentId}/cancel`)).toHaveLength(1));

    // The buyer had paid after all (the cancel lost the race): the money is kept, so the order is fulfilled.
    stripe.succeed(intentId);
    const late = await processPaymentEvent(node.node.deps, {
      id: `evt_late_${courseOrder.id}`,
      provider: 'stripe',
      type: 'payment.succeeded',
      paymentId: intentId,
      orderId: courseOrder.id,
      buyerId: buyer.user.id,
      amountMinor: courseOrder.totalMinor,
      currency: courseOrder.currency.toLowerCase(),
      failureReason: null,
    });
    expect(late).toEqual({ outcome: 'paid_late', orderId: courseOrder.id, duplicate: false });
    expect(await orderRow(courseOrder.id)).toMatchObject({ status: 'paid', failure_reason: null, closed_at: null });
    expect(await couponCounts()).toEqual({ reserved_count: 0, redeemed_count: 1 });
    expect(await orderBalance(q, courseOrder.id)).toBe(0);
    expect(await q.selectFrom('entitlements').select('source').where('order_id', '=', courseOrder.id).execute()).toEqual([{ source: 'order' }]);
  });

  it('the sweep settles a checkout paid at the provider whose webhook never came, and schedules its next run', async () => {
    const { course } = await pricedCourse(node, { priceMinor: 2500, currency: 'USD' });
    const [buyer] = await registerUsers(node.url, 1);
    const order = await checkout(buyer, { productId: course.id });
    const { provider_payment_id: intentId } = await orderRow(order.id);
    stripe.succeed(intentId!);
    // Half an hour on, the sweep finds it still pending here and asks the provider, which says it was paid.
    clock.advance(31 * 60_000);

    await sql`select graphile_worker.add_job('orders.reconcile', '{}'::json, job_key => 'orders.reconcile')`.execute(dbOf(node));
    const settled = await vi.waitFor(
      async () => {
        const row = await orderRow(order.id);
        if (row.status === 'pending') throw new Error('still pending');
        return row;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(settled.status).toBe('paid');
    const q = dbOf(node);
    expect(await q.selectFrom('payment_events').select('id').where('order_id', '=', order.id).execute()).toEqual([]);
    expect(await q.selectFrom('entitlements').select(['source', 'revoked_at']).where('order_id', '=', order.id).execute()).toEqual([{ source: 'order', revoked_at: null }]);
    expect(await orderBalance(q, order.id)).toBe(0);
    // The sweep queued its successor before working: one pending run, about ten minutes away.
    await vi.waitFor(async () => {
      const { rows } = await sql<{ run_at: Date }>`select run_at from graphile_worker.jobs where key = 'orders.reconcile' and locked_at is null`.execute(q);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.run_at.getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);
    });
  });
});
