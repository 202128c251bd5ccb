import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EarningsDto, OrderDto, RefundResponse } from '../../contracts/commerce.ts';
import type { ErrorResponse } from '../../contracts/errors.ts';
import { processPaymentEvent } from '../../domain/commerce/paymentEvents.ts';
import type { PaymentEvent } from '../../domain/commerce/provider.ts';
import { checkoutAs, payTestOrder, pricedCourse } from '../../test/commerceFactories.ts';
import { api, call, type ApiResponse, collect, connectSocket, eventually, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node?.close();
});

/** A paid order of a fresh priced course: its seller, its buyer, the course and the order. */
async function paidCourseOrder(priceMinor = 4000) {
  const { course, instructor: seller } = await pricedCourse(node, { priceMinor, currency: 'EUR' });
  const [buyer] = await registerUsers(node.url, 1);
  const { order } = await ok(checkoutAs(node, buyer, { productId: course.id }), 201);
  const paid = await payTestOrder(node, buyer, order.id, 'pay');
  expect(paid.status).toBe('paid');
  return { seller, buyer, course, order: paid };
}

function refund(user: TestUser, orderId: string, body: object, key?: string) {
  return api<RefundResponse>(node.url, 'POST', `/api/v1/orders/${orderId}/refunds`, {
    token: user.accessToken,
    body,
    headers: key ? { 'idempotency-key': key } : {},
  });
}

const errorOf = (res: ApiResponse<unknown>) => (res.body as ErrorResponse).error;

async function accountsOf(orderId: string) {
  const rows = await dbOf(node)
    .selectFrom('ledger_entries')
    .select(['account', (eb) => eb.fn.sum<string>('amount_minor').as('sum')])
    .where('order_id', '=', orderId)
    .groupBy('account')
    .execute();
  const accounts: Record<string, number> = { provider_clearing: 0, tax_payable: 0, platform_revenue: 0, creator_payable: 0 };
  for (const r of rows) accounts[r.account] = Number(r.sum);
  return accounts;
}

const entitlementOf = (userId: string, courseId: string) =>
  dbOf(node).selectFrom('entitlements').select(['source', 'order_id', 'revoked_at']).where('user_id', '=', userId).where('resource_id', '=', courseId).executeTakeFirstOrThrow();

const netEarnings = async (seller: TestUser) => {
  const body = await ok(call<EarningsDto>(node, 'GET', '/me/earnings', seller));
  return body.totals.find((t) => t.currency === 'EUR')?.netMinor ?? 0;
};

describe('refunds', () => {
  it('a partial refund, then the rest: statuses, balance, the ledger, earnings, and access closed only when refunded in full', async () => {
    const { seller, buyer, course, order } = await paidCourseOrder(4000);
    const [stranger] = await registerUsers(node.url, 1);
    const socket = await connectSocket(node.url, buyer.accessToken);
    const revoked = collect(socket, 'entitlement:revoked');
    const updates = collect(socket, 'order:updated');
    try {
      const netPaid = await netEarnings(seller);
      expect(netPaid).toBeGreaterThan(0);

      // Neither a stranger nor the buyer may refund: the order does not exist for them here.
      expect((await refund(stranger, order.id, { reason: 'Because.' })).status).toBe(404);
      expect((await refund(buyer, order.id, { reason: 'Because.' })).status).toBe(404);
      // The client never names more than is left.
      const over = await refund(seller, order.id, { amountMinor: 4001, reason: 'Too much.' });
      expect(over.status).toBe(409);
      expect(over.body).toMatchObject({ error: { code: 'conflict', details: { refundableMinor: 4000 } } });

      // A partial refund, sent twice with the same key: one refund.
      const first = await refund(seller, order.id, { amountMinor: 1000, reason: 'One module was missing.' }, 'refund-1');
      expect(first.status).toBe(201);
      expect(first.body.refund).toMatchObject({ orderId: order.id, amountMinor: 1000, currency: 'EUR', status: 'succeeded', reason: 'One module was missing.' });
      expect(first.body.order).toMatchObject({ status: 'partially_refunded', refundedMinor: 1000 });
      const again = await refund(seller, order.id, { amountMinor: 1000, reason: 'One module was missing.' }, 'refund-1');
      expect(again.status).toBe(201);
      expect(again.body.refund.id).toBe(first.body.refund.id);
      expect(await dbOf(node).selectFrom('refunds').select('id').where('order_id', '=', order.id).execute()).toHaveLength(1);
      expect((await entitlementOf(buyer.user.id, course.id)).revoked_at).toBeNull();
      expect(await netEarnings(seller)).toBeLessThan(netPaid);

      const capped = await refund(seller, order.id, { amountMinor: 3001, reason: 'Too much.' });
      expect(capped.status).toBe(409);
      expect(errorOf(capped).details).toEqual({ refundableMinor: 3000 });

      // The rest: refunded in full, the door closes and the buyer's tab hears it.
      const rest = await ok(refund(seller, order.id, { reason: 'Refund the rest.' }), 201);
      expect(rest.refund.amountMinor).toBe(3000);
      expect(rest.order).toMatchObject({ status: 'refunded', refundedMinor: 4000 });
      expect(await entitlementOf(buyer.user.id, course.id)).toMatchObject({ source: 'order', order_id: order.id, revoked_at: expect.any(Date) });
      await eventually(() => revoked.length > 0, 5000, 'entitlement:revoked');
      expect(revoked).toEqual([{ resourceType: 'course', resourceId: course.id, orderId: order.id }]);
      await eventually(() => updates.some((u) => u.status === 'refunded'), 5000, 'order:updated refunded');
      expect(updates.map((u) => u.status)).toEqual(['partially_refunded', 'refunded']);
      expect(await ok(call(node, 'GET', `/courses/${course.id}`, buyer))).toMatchObject({ course: { me: { canLearn: false } } });

      // The books: every account of the order back at zero; the seller earned nothing from it.
      expect(await accountsOf(order.id)).toEqual({ provider_clearing: 0, tax_payable: 0, platform_revenue: 0, creator_payable: 0 });
      expect(await netEarnings(seller)).toBe(0);
      const nothingLeft = await refund(seller, order.id, { reason: 'Once more.' });
      expect(nothingLeft.status).toBe(409);
    } finally {
      socket.close();
    }
  });

  it('the provider’s refund event after the API applied it changes nothing; a refund made at the provider is recorded and applied', async () => {
    const { seller, order } = await paidCourseOrder(3000);
    const applied = await ok(refund(seller, order.id, { amountMinor: 500, reason: 'Late start.' }), 201);
    const stored = await dbOf(node).selectFrom('refunds').select(['provider_refund_id']).where('id', '=', applied.refund.id).executeTakeFirstOrThrow();
    const paymentId = `test_pi_${order.id}`;
    const event = (id: string, refunds: Extract<PaymentEvent, { type: 'refund.updated' }>['refunds']): PaymentEvent => ({
      id,
      provider: 'test',
      type: 'refund.updated',
      paymentId,
      refunds,
    });
    const ours = { providerRefundId: stored.provider_refund_id!, amountMinor: 500, currency: 'EUR', status: 'succeeded' as const, refundId: applied.refund.id };
    expect(await processPaymentEvent(node.node.deps, event(`evt_${crypto.randomUUID()}`, [ours]))).toMatchObject({ outcome: 'refund_noted', duplicate: false });

    const dashboard = { providerRefundId: `re_dash_${crypto.randomUUID()}`, amountMinor: 700, currency: 'EUR', status: 'succeeded' as const, refundId: null };
    const id = `evt_${crypto.randomUUID()}`;
    expect(await processPaymentEvent(node.node.deps, event(id, [ours, dashboard]))).toMatchObject({ outcome: 'refund_applied', orderId: order.id });
    expect(await processPaymentEvent(node.node.deps, event(id, [ours, dashboard]))).toMatchObject({ duplicate: true });
    const after = await ok(call<OrderDto>(node, 'GET', `/orders/${order.id}`, seller));
    expect(after).toMatchObject({ status: 'partially_refunded', refundedMinor: 1200 });
    const rows = await dbOf(node).selectFrom('refunds').select(['amount_minor', 'status', 'reason']).where('order_id', '=', order.id).orderBy('amount_minor').execute();
    expect(rows).toEqual([
      { amount_minor: 500, status: 'succeeded', reason: 'Late start.' },
      { amount_minor: 700, status: 'succeeded', reason: 'Refunded at the payment provider.' },
    ]);
    expect((await accountsOf(order.id)).provider_clearing).toBe(1800);
  });
  it('a refund event for a payment not recorded yet is not recorded either, so it is processed again later', async () => {
    const { course } = await pricedCourse(node, { priceMinor: 1500, currency: 'EUR' });
    const [buyer] = await registerUsers(node.url, 1);
    const { order } = await ok(checkoutAs(node, buyer, { productId: course.id }), 201);
    const early: PaymentEvent = {
      id: `evt_${crypto.randomUUID()}`,
      provider: 'test',
      type: 'refund.updated',
      paymentId: `test_pi_${order.id}`,
      refunds: [{ providerRefundId: `re_${crypto.randomUUID()}`, amountMinor: 1500, currency: 'EUR', status: 'succeeded', refundId: null }],
    };
    // The test provider says the payment is still pending: the refund waits for it.
    await expect(processPaymentEvent(node.node.deps, early)).rejects.toThrow(/before its payment/);
    expect(await dbOf(node).selectFrom('payment_events').select('id').where('id', '=', early.id).execute()).toEqual([]);
    expect(await dbOf(node).selectFrom('refunds').select('id').where('order_id', '=', order.id).execute()).toEqual([]);
    expect((await ok(call<OrderDto>(node, 'GET', `/orders/${order.id}`, buyer))).status).toBe('pending');
  });
});

describe('disputes', () => {
  const disputeEvent = (order: OrderDto, disputeId: string, type: 'dispute.created' | 'dispute.closed', status: 'open' | 'won' | 'lost'): PaymentEvent => ({
    id: `evt_${crypto.randomUUID()}`,
    provider: 'test',
    type,
    paymentId: `test_pi_${order.id}`,
    disputeId,
    amountMinor: order.totalMinor,
    currency: order.currency,
    status,
    reason: 'fraudulent',
  });

  it('a dispute takes the money back and blocks refunds; won, the order is paid again; lost, access closes', async () => {
    const won = { ...(await paidCourseOrder(2500)), disputeId: `dp_${crypto.randomUUID()}` };
    const lost = { ...(await paidCourseOrder(2500)), disputeId: `dp_${crypto.randomUUID()}` };
    for (const { order, disputeId } of [won, lost]) {
      const opened = disputeEvent(order, disputeId, 'dispute.created', 'open');
      expect(await processPaymentEvent(node.node.deps, opened)).toMatchObject({ outcome: 'dispute_opened', orderId: order.id });
      // The same dispute told again (another event id) changes nothing.
      expect(await processPaymentEvent(node.node.deps, { ...opened, id: `evt_${crypto.randomUUID()}` })).toMatchObject({ outcome: 'dispute_known' });
    }
    for (const { seller, buyer, course, order } of [won, lost]) {
      expect(await ok(call<OrderDto>(node, 'GET', `/orders/${order.id}`, seller))).toMatchObject({ status: 'disputed' });
      expect(await accountsOf(order.id)).toEqual({ provider_clearing: 0, tax_payable: 0, platform_revenue: 0, creator_payable: 0 });
      // Access stays while the dispute is open; refunds wait.
      expect((await entitlementOf(buyer.user.id, course.id)).revoked_at).toBeNull();
      const refused = await refund(seller, order.id, { reason: 'Trying.' });
      expect(refused.status).toBe(409);
      expect(errorOf(refused).message).toBe('A disputed order cannot be refunded.');
    }

    const wonId = won.disputeId;
    expect(await processPaymentEvent(node.node.deps, disputeEvent(won.order, wonId, 'dispute.closed', 'won'))).toMatchObject({ outcome: 'dispute_won' });
    expect(await processPaymentEvent(node.node.deps, disputeEvent(won.order, wonId, 'dispute.closed', 'won'))).toMatchObject({ outcome: 'dispute_known' });
    expect(await ok(call<OrderDto>(node, 'GET', `/orders/${won.order.id}`, won.seller))).toMatchObject({ status: 'paid', refundedMinor: 0 });
    expect((await accountsOf(won.order.id)).provider_clearing).toBe(2500);
    expect((await entitlementOf(won.buyer.user.id, won.course.id)).revoked_at).toBeNull();
    expect((await refund(won.seller, won.order.id, { amountMinor: 100, reason: 'Goodwill.' })).status).toBe(201);

    const lostId = lost.disputeId;
    expect(await processPaymentEvent(node.node.deps, disputeEvent(lost.order, lostId, 'dispute.closed', 'lost'))).toMatchObject({ outcome: 'dispute_lost' });
    expect(await ok(call<OrderDto>(node, 'GET', `/orders/${lost.order.id}`, lost.seller))).toMatchObject({ status: 'disputed' });
    expect((await entitlementOf(lost.buyer.user.id, lost.course.id)).revoked_at).toEqual(expect.any(Date));
    expect(await accountsOf(lost.order.id)).toEqual({ provider_clearing: 0, tax_payable: 0, platform_revenue: 0, creator_payable: 0 });
    const ledgerSum = await dbOf(node)
      .selectFrom('ledger_entries')
      .select((eb) => eb.fn.sum<string>('amount_minor').as('sum'))
      .where('order_id', 'in', [won.order.id, lost.order.id])
      .executeTakeFirstOrThrow();
    expect(Number(ledgerSum.sum)).toBe(0);
  });
});
