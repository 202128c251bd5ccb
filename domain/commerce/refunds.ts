import type { RefundInput, RefundResponse } from '../../contracts/commerce.ts';
import type { Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import type { AfterCommit } from './afterCommit.ts';
import type { PaymentEvent } from './provider.ts';

/** POST /orders/:id/refunds — by the seller or an admin; capped at the refundable balance; idempotent by key. */
export async function refundOrder(deps: Deps, actor: Actor, orderId: string, input: RefundInput, idempotencyKey: string | null): Promise<RefundResponse> {
  void deps; void actor; void orderId; void input; void idempotencyKey;
  throw new Error('not implemented yet');
}

/** A provider refund event (inside processPaymentEvent's transaction). */
export async function applyRefundEvent(deps: Deps, q: Db, event: Extract<PaymentEvent, { type: 'refund.updated' }>, at: Date): Promise<{ outcome: string; orderId: string | null; after: AfterCommit[] }> {
  void deps; void q; void event; void at;
  throw new Error('not implemented yet');
}
