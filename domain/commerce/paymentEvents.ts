import { db, type Db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import { runAfterCommit, type AfterCommit } from './afterCommit.ts';
import { applyDisputeEvent } from './disputes.ts';
import { closeUnpaidOrder, markOrderPaid } from './fulfilment.ts';
import { isSettled, lockOrder, lockOrderByPayment, type OrderRow } from './orderRows.ts';
import type { PaymentEvent, ProviderName } from './provider.ts';
import { applyRefundEvent } from './refunds.ts';
import { applySubscriptionEvent } from './subscriptions.ts';

/*
 * Every provider event — Stripe's webhooks, the test payment page's clicks — ends here, in one transaction that records
 * the event's id in payment_events together with its effect. A redelivery finds the id and changes nothing; an effect
 * that fails rolls the record back with it, so the job's retry processes the event again.
 */

export type PaymentEventOutcome = { outcome: string; orderId: string | null; duplicate: boolean };

type Effect = { outcome: string; orderId: string | null; after: AfterCommit[] };
type PaymentOutcomeEvent = Extract<PaymentEvent, { type: 'payment.succeeded' | 'payment.failed' | 'payment.canceled' }>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The order a payment belongs to, locked: by the payment id the checkout stored, else by the order id in the payment's
 * metadata — a webhook can arrive before the checkout has stored the payment id — provided the order has no other
 * payment. Null when neither finds one.
 */
export async function lockPaymentOrder(q: Db, provider: ProviderName, paymentId: string, orderId: string | null): Promise<OrderRow | null> {
  const byPayment = await lockOrderByPayment(q, provider, paymentId);
  if (byPayment) return byPayment;
  if (!orderId || !UUID.test(orderId)) return null;
  const byMetadata = await lockOrder(q, orderId);
  if (!byMetadata || byMetadata.provider !== provider) return null;
  if (byMetadata.provider_payment_id !== null && byMetadata.provider_payment_id !== paymentId) return null;
  return byMetadata;
}

/**
 * Why a payment does not pay for this order, or null when it does: the same payment, order and buyer, and exactly the
 * order's total in its currency. Anything else is never fulfilled (a tampered or confused payment).
 */
export function paymentMismatch(
  order: OrderRow,
  payment: { paymentId: string; orderId: string | null; buyerId: string | null; amountMinor: number; currency: string },
): string | null {
  if (order.provider_payment_id !== null && order.provider_payment_id !== payment.paymentId) return 'another payment';
  if (payment.orderId !== null && payment.orderId !== order.id) return 'another order';
  if (payment.buyerId !== null && payment.buyerId !== order.buyer_id) return 'another buyer';
  if (payment.currency.toUpperCase() !== order.currency.toUpperCase()) return 'another currency';
  if (payment.amountMinor !== order.total_minor) return 'another amount';
  return null;
}

/**
 * A completed payment of an order, as the provider reports it (an event, or reconciliation asking): fulfils the order
 * when the payment matches it. Runs inside the caller's transaction, with the order locked.
 */
export async function settleVerifiedPayment(
  deps: Deps,
  q: Db,
  order: OrderRow,
  payment: { paymentId: string; orderId: string | null; buyerId: string | null; amountMinor: number; currency: string },
  at: Date,
): Promise<Effect> {
  const mismatch = paymentMismatch(order, payment);
  if (mismatch) {
    deps.logger.warn({ orderId: order.id, paymentId: payment.paymentId, mismatch }, 'a payment does not match its order; not fulfilled');
    return { outcome: 'mismatch', orderId: order.id, after: [] };
  }
  if (isSettled(order.status)) return { outcome: 'already_paid', orderId: order.id, after: [] };
  if (order.provider_payment_id === null) {
    await q.updateTable('orders').set({ provider_payment_id: payment.paymentId }).where('id', '=', order.id).execute();
    order = { ...order, provider_payment_id: payment.paymentId };
  }
  const late = order.status !== 'pending';
  const after = await markOrderPaid(deps, q, order, at);
  return { outcome: late ? 'paid_late' : 'paid', orderId: order.id, after };
}

async function applyPaymentOutcome(deps: Deps, q: Db, event: PaymentOutcomeEvent, at: Date): Promise<Effect> {
  const order = await lockPaymentOrder(q, event.provider, event.paymentId, event.orderId);
  if (!order) {
    deps.logger.warn({ eventId: event.id, paymentId: event.paymentId }, 'a payment event names no order of ours');
    return { outcome: 'unknown_order', orderId: null, after: [] };
  }
  if (event.type === 'payment.succeeded') return settleVerifiedPayment(deps, q, order, event, at);

  // A failure or cancelation: the same identity checks (the amount does not matter for a payment that did not happen).
  const foreign = paymentMismatch(order, { ...event, amountMinor: order.total_minor, currency: order.currency });
  if (foreign) {
    deps.logger.warn({ eventId: event.id, orderId: order.id, mismatch: foreign }, 'a payment failure does not match its order; ignored');
    return { outcome: 'mismatch', orderId: order.id, after: [] };
  }
  // Never backwards: a failure reported after the payment succeeded (out of order, or a retried attempt) is ignored.
  if (isSettled(order.status)) return { outcome: 'ignored_settled', orderId: order.id, after: [] };
  if (order.status !== 'pending') return { outcome: 'ignored_closed', orderId: order.id, after: [] };
  const reason =
    event.failureReason ?? (event.type === 'payment.canceled' ? 'The payment was canceled.' : 'The payment did not go through.');
  return { outcome: 'failed', orderId: order.id, after: await closeUnpaidOrder(deps, q, order, 'failed', reason, at) };
}

async function applyEvent(deps: Deps, q: Db, event: PaymentEvent, at: Date): Promise<Effect> {
  switch (event.type) {
    case 'payment.succeeded':
    case 'payment.failed':
    case 'payment.canceled':
      return applyPaymentOutcome(deps, q, event, at);
    case 'refund.updated':
      return applyRefundEvent(deps, q, event, at);
    case 'dispute.created':
    case 'dispute.closed':
      return applyDisputeEvent(deps, q, event, at);
    case 'invoice.paid':
    case 'invoice.payment_failed':
    case 'subscription.updated':
    case 'subscription.deleted':
      return applySubscriptionEvent(deps, q, event, at);
  }
}

/**
 * Processes one provider event in one transaction: records its id in payment_events with its effect (a duplicate
 * changes nothing; a failure records nothing, so a retry processes it again), then announces after commit.
 */
export async function processPaymentEvent(deps: Deps, event: PaymentEvent): Promise<PaymentEventOutcome> {
  const at = deps.clock.now();
  const result = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    // The id first: a concurrent delivery of the same event waits here until this transaction ends, then finds it.
    const claimed = await q
      .insertInto('payment_events')
      .values({ id: event.id, provider: event.provider, type: event.type, order_id: null, outcome: 'processing', processed_at: at })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!claimed) {
      const seen = await q.selectFrom('payment_events').select(['order_id']).where('id', '=', event.id).executeTakeFirst();
      return { outcome: 'duplicate', orderId: seen?.order_id ?? null, duplicate: true, after: [] as AfterCommit[] };
    }
    const effect = await applyEvent(deps, q, event, at);
    await q
      .updateTable('payment_events')
      .set({ outcome: effect.outcome.slice(0, 32), order_id: effect.orderId })
      .where('id', '=', event.id)
      .execute();
    return { ...effect, duplicate: false };
  });
  try {
    await runAfterCommit(result.after);
  } catch (err) {
    // The effect has committed; an announcement that failed is not a reason to process the event again.
    deps.logger.error({ err: String(err), eventId: event.id }, 'announcing a processed payment event failed');
  }
  return { outcome: result.outcome, orderId: result.orderId, duplicate: result.duplicate };
}
