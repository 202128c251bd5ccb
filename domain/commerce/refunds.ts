import type { Selectable } from 'kysely';
import type { RefundDto, RefundInput, RefundResponse } from '../../contracts/commerce.ts';
import { db, type DB, type Db } from '../../orm/db.ts';
import { isPlatformAdmin } from '../access/roles.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { runAfterCommit, type AfterCommit } from './afterCommit.ts';
import { markOrderPaid } from './fulfilment.ts';
import { revokeOrderLines } from './grants.ts';
import { postReversal } from './ledger.ts';
import { lockOrder, lockOrderByPayment, type OrderRow } from './orderRows.ts';
import { announceOrder, loadOrderDto } from './orders.ts';
import type { PaymentEvent, ProviderRefund } from './provider.ts';

/*
 * Refunds. A seller (or a platform admin) asks for one through the API; the provider carries it out and tells us the
 * outcome, either in its answer or later by an event — and a refund made in the provider's own dashboard arrives only
 * as an event. Whichever way it arrives, a succeeded refund is applied once, by `applySucceededRefund`: its row moves
 * pending → succeeded under the order's lock, so the API's answer and the webhook never both apply it.
 */

type RefundRow = Selectable<DB['refunds']>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const PROVIDER_REFUND_REASON = 'Refunded at the payment provider.';

export function presentRefund(row: RefundRow, currency: string): RefundDto {
  return {
    id: row.id,
    orderId: row.order_id,
    amountMinor: row.amount_minor,
    currency,
    reason: row.reason,
    status: row.status,
    createdAt: row.created_at.toISOString(),
  };
}

/** What can still be refunded: the total less what was refunded and what refunds under way will take. */
async function refundableOf(q: Db, order: OrderRow): Promise<number> {
  const row = await q
    .selectFrom('refunds')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount_minor'), eb.lit(0)).as('pending'))
    .where('order_id', '=', order.id)
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return order.total_minor - order.refunded_minor - Number(row.pending);
}

const mayRefund = (actor: Actor, order: OrderRow) => order.seller_id === actor.userId || isPlatformAdmin(actor);

/** POST /orders/:id/refunds — by the seller or an admin; capped at the refundable balance; idempotent by key. */
export async function refundOrder(deps: Deps, actor: Actor, orderId: string, input: RefundInput, idempotencyKey: string | null): Promise<RefundResponse> {
  const at = deps.clock.now();
  const opened = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const order = await lockOrder(q, orderId);
    if (!order || !mayRefund(actor, order)) throw new AppError('not_found', 'No such order.');
    if (idempotencyKey !== null) {
      const earlier = await q.selectFrom('refunds').selectAll().where('order_id', '=', order.id).where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
      if (earlier) return { refund: earlier, order, replay: true };
    }
    if (order.status === 'disputed') throw new AppError('conflict', 'A disputed order cannot be refunded.');
    if (order.status !== 'paid' && order.status !== 'partially_refunded') {
      throw new AppError('conflict', order.status === 'refunded' ? 'This order was refunded in full already.' : 'Only a paid order can be refunded.');
    }
    const refundableMinor = await refundableOf(q, order);
    if (refundableMinor <= 0) throw new AppError('conflict', 'Nothing is left to refund on this order.', { details: { refundableMinor: 0 } });
    const amount = input.amountMinor ?? refundableMinor;
    if (amount > refundableMinor) {
      throw new AppError('conflict', `At most ${refundableMinor} can be refunded.`, { details: { refundableMinor } });
    }
    if (order.provider === 'none' || !order.provider_payment_id) throw new AppError('conflict', 'Nothing was paid for this order.');
    const refund = await q
      .insertInto('refunds')
      .values({
        id: crypto.randomUUID(),
        order_id: order.id,
        amount_minor: amount,
        reason: input.reason,
        status: 'pending',
        requested_by_id: actor.userId,
        idempotency_key: idempotencyKey,
        created_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { refund, order, replay: false };
  });
  if (opened.replay) return answer(deps, opened.refund, opened.order.currency);

  const { refund, order } = opened;
  const provider = deps.commerce.provider;
  let outcome: ProviderRefund;
  try {
    if (!provider || provider.name !== order.provider) throw new Error(`the order's provider (${order.provider}) is not configured`);
    outcome = await provider.refund({
      paymentId: order.provider_payment_id!,
      orderId: order.id,
      amountMinor: refund.amount_minor,
      refundId: refund.id,
      reason: refund.reason,
    });
  } catch (err) {
    deps.logger.warn({ err: String(err), orderId: order.id, refundId: refund.id }, 'refund request failed at the provider');
    await db(deps.orm.em.fork())
      .updateTable('refunds')
      .set({ status: 'failed', settled_at: deps.clock.now() })
      .where('id', '=', refund.id)
      .where('status', '=', 'pending')
      .execute();
    throw new AppError('unavailable', 'The payment provider could not carry out the refund; nothing was refunded. Try again.');
  }

  const after = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const locked = await lockOrder(q, order.id);
    await q
      .updateTable('refunds')
      .set({ provider_refund_id: outcome.providerRefundId })
      .where('id', '=', refund.id)
      .where('provider_refund_id', 'is', null)
      .execute();
    if (outcome.status === 'succeeded') return (await applySucceededRefund(deps, q, locked!, refund.id, deps.clock.now())).after;
    if (outcome.status === 'failed') await markRefundFailed(q, refund.id, deps.clock.now());
    return [];
  });
  await runAfterCommit(after);
  const stored = await db(deps.orm.em.fork()).selectFrom('refunds').selectAll().where('id', '=', refund.id).executeTakeFirstOrThrow();
  return answer(deps, stored, order.currency);
}

async function answer(deps: Deps, refund: RefundRow, currency: string): Promise<RefundResponse> {
  const q = db(deps.orm.em.fork());
  return { refund: presentRefund(refund, currency), order: await loadOrderDto(q, refund.order_id) };
}

async function markRefundFailed(q: Db, refundId: string, at: Date): Promise<void> {
  await q.updateTable('refunds').set({ status: 'failed', settled_at: at }).where('id', '=', refundId).where('status', '=', 'pending').execute();
}

/**
 * Applies a refund the provider says succeeded, once: the refunded amount grows, the order becomes partially refunded
 * or refunded, the ledger reverses the amount, and a full refund closes the doors the order opened. `order` must be
 * locked by the caller. Returns the order as it now is and what to announce after commit.
 */
export async function applySucceededRefund(deps: Deps, q: Db, order: OrderRow, refundId: string, at: Date): Promise<{ order: OrderRow; applied: boolean; after: AfterCommit[] }> {
  // A refund marked failed because the provider's answer never came may still have gone through: the event wins.
  const settled = await q
    .updateTable('refunds')
    .set({ status: 'succeeded', settled_at: at })
    .where('id', '=', refundId)
    .where('order_id', '=', order.id)
    .where('status', '!=', 'succeeded')
    .returning('amount_minor')
    .executeTakeFirst();
  if (!settled) return { order, applied: false, after: [] };
  const amount = Math.min(settled.amount_minor, order.total_minor - order.refunded_minor);
  if (amount <= 0) return { order, applied: false, after: [] };
  const refunded = order.refunded_minor + amount;
  const full = refunded === order.total_minor;
  // A refund during a dispute (made at the provider) leaves the dispute to decide the order's status.
  const status = order.status === 'disputed' ? 'disputed' : full ? 'refunded' : 'partially_refunded';
  const updated = await q
    .updateTable('orders')
    .set({ refunded_minor: refunded, status, updated_at: at, ...(full ? { closed_at: at } : {}) })
    .where('id', '=', order.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await postReversal(q, order, 'refund', amount, at);
  const after: AfterCommit[] = [];
  if (full && order.status !== 'disputed') after.push(...(await revokeOrderLines(deps, q, updated, at)));
  after.push(await announceOrder(deps, q, order.id));
  return { order: updated, applied: true, after };
}

/** A provider refund event (inside processPaymentEvent's transaction). */
export async function applyRefundEvent(
  deps: Deps,
  q: Db,
  event: Extract<PaymentEvent, { type: 'refund.updated' }>,
  at: Date,
): Promise<{ outcome: string; orderId: string | null; after: AfterCommit[] }> {
  let order = await lockOrderByPayment(q, event.provider, event.paymentId);
  if (!order) return { outcome: 'unknown_payment', orderId: null, after: [] };
  const after: AfterCommit[] = [];

  if (order.status === 'pending' || order.status === 'failed' || order.status === 'expired') {
    // The refund overtook the payment's own event: ask the provider what the payment became.
    const provider = deps.commerce.provider;
    if (!provider) throw new Error('refund event without a payment provider configured');
    const payment = await provider.retrievePayment(event.paymentId);
    const matches =
      payment.status === 'succeeded' && payment.amountMinor === order.total_minor && payment.currency.toUpperCase() === order.currency && (payment.orderId === null || payment.orderId === order.id);
    if (!matches) throw new Error(`refund for payment ${event.paymentId} arrived before its payment was recorded; retrying later`);
    after.push(...(await markOrderPaid(deps, q, order, at)));
    order = (await lockOrder(q, order.id))!;
  }

  let applied = 0;
  for (const reported of event.refunds) {
    let row = await q.selectFrom('refunds').selectAll().where('provider_refund_id', '=', reported.providerRefundId).executeTakeFirst();
    if (!row && reported.refundId && UUID.test(reported.refundId)) {
      row = await q.selectFrom('refunds').selectAll().where('id', '=', reported.refundId).where('order_id', '=', order.id).executeTakeFirst();
      if (row && row.provider_refund_id === null) {
        await q.updateTable('refunds').set({ provider_refund_id: reported.providerRefundId }).where('id', '=', row.id).execute();
      }
    }
    if (!row) {
      if (reported.status === 'failed') continue;
      row = await q
        .insertInto('refunds')
        .values({
          id: crypto.randomUUID(),
          order_id: order.id,
          amount_minor: reported.amountMinor,
          reason: PROVIDER_REFUND_REASON,
          status: 'pending',
          provider_refund_id: reported.providerRefundId,
          created_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    }
    if (row.order_id !== order.id) continue;
    if (reported.status === 'succeeded') {
      const result = await applySucceededRefund(deps, q, order, row.id, at);
      order = result.order;
      if (result.applied) applied++;
      after.push(...result.after);
    } else if (reported.status === 'failed') {
      await markRefundFailed(q, row.id, at);
    }
  }
  return { outcome: applied > 0 ? 'refund_applied' : 'refund_noted', orderId: order.id, after };
}
