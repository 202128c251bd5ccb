import type { Db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import type { AfterCommit } from './afterCommit.ts';
import { releaseSeat } from './classroomSeats.ts';
import { consumeCoupon, releaseCoupon } from './coupons.ts';
import { grantOrderLines } from './grants.ts';
import { postPayment } from './ledger.ts';
import { isSettled, type OrderRow } from './orderRows.ts';
import { announceOrder } from './orders.ts';
import { queueReceipt } from './receipts.ts';

/*
 * The two ends of a checkout, each run inside the transaction that holds the order's lock (lockOrder): paid, or
 * closed unpaid. Both are idempotent, and neither moves an order backwards: a payment of a settled order changes
 * nothing, and only a pending order can be closed unpaid.
 */

/**
 * A verified, complete payment of a pending (or expired/failed: money arrived late) order: marks it paid, consumes its
 * coupon, grants its lines, confirms a held seat and posts the payment to the ledger. Idempotent on a paid order.
 */
export async function markOrderPaid(deps: Deps, q: Db, order: OrderRow, at: Date): Promise<AfterCommit[]> {
  if (isSettled(order.status)) return [];
  // A late payment of a closed order is still fulfilled: the buyer's money was taken, so they get what they paid for.
  const paid = await q
    .updateTable('orders')
    .set({ status: 'paid', paid_at: at, updated_at: at, closed_at: null, failure_reason: null })
    .where('id', '=', order.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  // Reserved at checkout → redeemed. A late payment whose use was already released is not counted again.
  await consumeCoupon(q, order.id, at);
  const after = await grantOrderLines(deps, q, paid, at);
  await postPayment(q, paid, at);
  await queueReceipt(deps, q, paid.id);
  return [...after, await announceOrder(deps, q, paid.id)];
}

/** A pending order that will not be paid: failed (declined, canceled) or expired. Releases its coupon and seat. */
export async function closeUnpaidOrder(
  deps: Deps,
  q: Db,
  order: OrderRow,
  status: 'failed' | 'expired',
  reason: string,
  at: Date,
): Promise<AfterCommit[]> {
  if (order.status !== 'pending') return [];
  await q
    .updateTable('orders')
    .set({ status, failure_reason: reason, closed_at: at, updated_at: at })
    .where('id', '=', order.id)
    .execute();
  await releaseCoupon(q, order.id, at);
  const after = await releaseSeat(q, order.id, at, deps);
  return [...after, await announceOrder(deps, q, order.id)];
}
