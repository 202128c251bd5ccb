import type { Db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import type { AfterCommit } from './afterCommit.ts';
import { revokeOrderLines } from './grants.ts';
import { postDisputeWon, postReversal } from './ledger.ts';
import { isSettled, lockOrderByPayment, type OrderRow } from './orderRows.ts';
import { announceOrder } from './orders.ts';
import type { PaymentEvent } from './provider.ts';

/*
 * Disputes (chargebacks). When a buyer disputes a payment the provider takes the money back at once: the order
 * becomes `disputed` and the ledger reverses the disputed amount, while the buyer keeps access until it is decided.
 * Won, the money returns (the order is paid again, or partially refunded if it was); lost, the order stays disputed and
 * its doors close — nobody keeps what they charged back. Each provider dispute is recorded once (its id is unique) and
 * moves open → won | lost once, so a repeated or late event changes nothing.
 */

type DisputeEvent = Extract<PaymentEvent, { type: 'dispute.created' | 'dispute.closed' }>;
type Result = { outcome: string; orderId: string | null; after: AfterCommit[] };

/** A provider dispute event (inside processPaymentEvent's transaction). */
export async function applyDisputeEvent(deps: Deps, q: Db, event: DisputeEvent, at: Date): Promise<Result> {
  const order = await lockOrderByPayment(q, event.provider, event.paymentId);
  if (!order) return { outcome: 'unknown_payment', orderId: null, after: [] };
  // A dispute of a payment whose own event has not been processed yet: retry once it has (the event is not recorded).
  if (!isSettled(order.status)) throw new Error(`dispute ${event.disputeId} arrived before the payment of order ${order.id} was recorded; retrying later`);

  const after: AfterCommit[] = [];
  let current = order;
  let dispute = await q.selectFrom('disputes').selectAll().where('provider_dispute_id', '=', event.disputeId).executeTakeFirst();
  if (!dispute) {
    // dispute.created, or a dispute.closed whose creation we never heard of: open it first.
    const opened = await openDispute(q, order, event, at);
    dispute = opened.dispute;
    current = opened.order;
    if (event.type === 'dispute.created' || event.status === 'open') {
      after.push(await announceOrder(deps, q, order.id));
      return { outcome: 'dispute_opened', orderId: order.id, after };
    }
  } else if (event.type === 'dispute.created' || event.status === 'open') {
    return { outcome: 'dispute_known', orderId: order.id, after: [] };
  }

  if (dispute.status !== 'open') return { outcome: 'dispute_known', orderId: order.id, after };
  const won = event.status === 'won';
  await q.updateTable('disputes').set({ status: won ? 'won' : 'lost', closed_at: at }).where('id', '=', dispute.id).where('status', '=', 'open').execute();
  if (dispute.amount_minor > 0) {
    if (won) {
      await postDisputeWon(q, current, dispute.amount_minor, at);
      const status = current.refunded_minor >= current.total_minor ? 'refunded' : current.refunded_minor > 0 ? 'partially_refunded' : 'paid';
      await q.updateTable('orders').set({ status, updated_at: at }).where('id', '=', order.id).execute();
    } else {
      const closed = await q.updateTable('orders').set({ updated_at: at, closed_at: at }).where('id', '=', order.id).returningAll().executeTakeFirstOrThrow();
      after.push(...(await revokeOrderLines(deps, q, closed, at)));
    }
    after.push(await announceOrder(deps, q, order.id));
  }
  return { outcome: won ? 'dispute_won' : 'dispute_lost', orderId: order.id, after };
}

/** Records the dispute and takes back what it disputes (at most what was neither refunded nor disputed already). */
async function openDispute(q: Db, order: OrderRow, event: DisputeEvent, at: Date) {
  const open = await q
    .selectFrom('disputes')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount_minor'), eb.lit(0)).as('held'))
    .where('order_id', '=', order.id)
    .where('status', '=', 'open')
    .executeTakeFirstOrThrow();
  const amount = Math.max(0, Math.min(event.amountMinor, order.total_minor - order.refunded_minor - Number(open.held)));
  const dispute = await q
    .insertInto('disputes')
    .values({
      id: crypto.randomUUID(),
      order_id: order.id,
      provider_dispute_id: event.disputeId,
      // What was taken back, so winning returns exactly that.
      amount_minor: amount,
      status: 'open',
      reason: event.reason.slice(0, 1000),
      created_at: at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (amount === 0) return { dispute, order };
  await postReversal(q, order, 'dispute', amount, at);
  const updated = await q.updateTable('orders').set({ status: 'disputed', updated_at: at }).where('id', '=', order.id).returningAll().executeTakeFirstOrThrow();
  return { dispute, order: updated };
}
