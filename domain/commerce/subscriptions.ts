import type { Db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import type { AfterCommit } from './afterCommit.ts';
import type { PaymentEvent } from './provider.ts';

/** A provider invoice or subscription event (inside processPaymentEvent's transaction). */
export async function applySubscriptionEvent(
  deps: Deps,
  q: Db,
  event: Extract<PaymentEvent, { type: 'invoice.paid' | 'invoice.payment_failed' | 'subscription.updated' | 'subscription.deleted' }>,
  at: Date,
): Promise<{ outcome: string; orderId: string | null; after: AfterCommit[] }> {
  void deps; void q; void event; void at;
  throw new Error('not implemented yet');
}
