import type { Db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import type { AfterCommit } from './afterCommit.ts';
import type { OrderRow } from './orderRows.ts';

/**
 * A verified, complete payment of a pending (or expired/failed: money arrived late) order: marks it paid, consumes its
 * coupon, grants its lines, confirms a held seat and posts the payment to the ledger. Idempotent on a paid order.
 */
export async function markOrderPaid(deps: Deps, q: Db, order: OrderRow, at: Date): Promise<AfterCommit[]> {
  void deps; void q; void order; void at;
  throw new Error('not implemented yet');
}

/** A pending order that will not be paid: failed (declined, canceled) or expired. Releases its coupon and seat. */
export async function closeUnpaidOrder(deps: Deps, q: Db, order: OrderRow, status: 'failed' | 'expired', reason: string, at: Date): Promise<AfterCommit[]> {
  void deps; void q; void order; void status; void reason; void at;
  throw new Error('not implemented yet');
}
