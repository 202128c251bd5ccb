import type { Selectable } from 'kysely';
import type { DB, Db } from '../../orm/db.ts';

/** An order as stored. */
export type OrderRow = Selectable<DB['orders']>;
export type OrderLineRow = Selectable<DB['order_lines']>;

/** The order, locked for the rest of the transaction (every change to an order takes this lock first). */
export async function lockOrder(q: Db, orderId: string): Promise<OrderRow | undefined> {
  return q.selectFrom('orders').selectAll().where('id', '=', orderId).forUpdate().executeTakeFirst();
}

/** The order that a provider payment belongs to, locked. */
export async function lockOrderByPayment(q: Db, provider: 'stripe' | 'test', paymentId: string): Promise<OrderRow | undefined> {
  return q
    .selectFrom('orders')
    .selectAll()
    .where('provider', '=', provider)
    .where('provider_payment_id', '=', paymentId)
    .forUpdate()
    .executeTakeFirst();
}

export async function loadOrderLines(q: Db, orderId: string): Promise<OrderLineRow[]> {
  return q.selectFrom('order_lines').selectAll().where('order_id', '=', orderId).orderBy('position').execute();
}

/** Statuses from which nothing moves back to pending, paid or failed. */
export const SETTLED_STATUSES = ['paid', 'refunded', 'partially_refunded', 'disputed'] as const;
export const isSettled = (status: OrderRow['status']) => (SETTLED_STATUSES as readonly string[]).includes(status);
