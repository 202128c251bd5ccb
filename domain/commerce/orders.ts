import { z } from 'zod';
import type { OrderDto, OrderList } from '../../contracts/commerce.ts';
import { db, uuids, type Db } from '../../orm/db.ts';
import { isPlatformAdmin } from '../access/roles.ts';
import { decodeCursor, encodeCursor } from '../communities/cursor.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { enqueueJob } from '../shared/jobs.ts';
import type { AfterCommit } from './afterCommit.ts';
import './events.ts';
import type { OrderRow } from './orderRows.ts';
import type { PaymentEvent } from './provider.ts';

/*
 * Orders as people see them: the buyer's history and receipts, the seller's sales. An order is visible to its buyer,
 * its seller and platform admins; to anyone else it does not exist.
 */

/** The orders as the wire shows them, in the order of `ids` (missing ids are left out). Three statements whatever the count. */
export async function loadOrderDtos(q: Db, ids: readonly string[]): Promise<OrderDto[]> {
  if (ids.length === 0) return [];
  const rows = await q
    .selectFrom('orders as o')
    .innerJoin('users as b', 'b.id', 'o.buyer_id')
    .innerJoin('users as s', 's.id', 'o.seller_id')
    .leftJoin('tax_rates as t', 't.country', 'o.tax_country')
    .selectAll('o')
    .select(['b.display_name as buyer_name', 's.display_name as seller_name', 't.name as tax_name'])
    .where('o.id', '=', (eb) => eb.fn.any(uuids(ids)))
    .execute();
  const lines = await q
    .selectFrom('order_lines')
    .select(['order_id', 'resource_type', 'resource_id', 'title', 'amount_minor'])
    .where('order_id', '=', (eb) => eb.fn.any(uuids(ids)))
    .orderBy('order_id')
    .orderBy('position')
    .execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    if (!row) return [];
    return [
      presentOrder(row, {
        buyerName: row.buyer_name,
        sellerName: row.seller_name,
        taxName: row.tax_name,
        lines: lines.filter((line) => line.order_id === id),
      }),
    ];
  });
}

function presentOrder(
  row: OrderRow,
  extra: {
    buyerName: string;
    sellerName: string;
    taxName: string | null;
    lines: Array<{ resource_type: OrderDto['lines'][number]['resourceType']; resource_id: string; title: string; amount_minor: number }>;
  },
): OrderDto {
  return {
    id: row.id,
    status: row.status,
    productType: row.product_type,
    productId: row.product_id,
    title: row.title,
    lines: extra.lines.map((line) => ({
      resourceType: line.resource_type,
      resourceId: line.resource_id,
      title: line.title,
      amountMinor: line.amount_minor,
    })),
    subtotalMinor: row.subtotal_minor,
    discountMinor: row.discount_minor,
    taxMinor: row.tax_minor,
    totalMinor: row.total_minor,
    refundedMinor: row.refunded_minor,
    currency: row.currency,
    couponCode: row.coupon_code,
    tax: row.tax_country
      ? { country: row.tax_country, rateBps: row.tax_rate_bps, inclusive: row.tax_inclusive, name: extra.taxName ?? 'Tax' }
      : null,
    buyer: { id: row.buyer_id, displayName: extra.buyerName },
    seller: { id: row.seller_id, displayName: extra.sellerName },
    provider: row.provider,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    paidAt: row.paid_at?.toISOString() ?? null,
    failureReason: row.failure_reason,
  };
}

/** The order as the wire shows it (lines, tax, buyer and seller names). */
export async function loadOrderDto(q: Db, orderId: string): Promise<OrderDto> {
  const [dto] = await loadOrderDtos(q, [orderId]);
  if (!dto) throw new AppError('not_found', 'No such order.');
  return dto;
}

/** Loads the order's DTO now (inside the transaction) and announces `order.updated` once it has committed. */
export async function announceOrder(deps: Deps, q: Db, orderId: string): Promise<AfterCommit> {
  const order = await loadOrderDto(q, orderId);
  return () => deps.events.emit('order.updated', { order, buyerId: order.buyer.id, sellerId: order.seller.id });
}

/** GET /orders/:id — the buyer, the seller or a platform admin; anyone else `not_found`. */
export async function getOrder(deps: Deps, actor: Actor, orderId: string): Promise<OrderDto> {
  const q = db(deps.orm.em.fork());
  const order = await q.selectFrom('orders').select(['buyer_id', 'seller_id']).where('id', '=', orderId).executeTakeFirst();
  if (!order || !(order.buyer_id === actor.userId || order.seller_id === actor.userId || isPlatformAdmin(actor))) {
    throw new AppError('not_found', 'No such order.');
  }
  return loadOrderDto(q, orderId);
}

const OrderCursor = z.tuple([z.iso.datetime(), z.uuid()]);

/** GET /me/orders — newest first, keyset paged. */
export async function listMyOrders(deps: Deps, actor: Actor, page: { cursor?: string; limit: number }): Promise<OrderList> {
  const q = db(deps.orm.em.fork());
  const after = decodeCursor(OrderCursor, page.cursor);
  let query = q
    .selectFrom('orders')
    .select(['id', 'created_at'])
    .where('buyer_id', '=', actor.userId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
  if (after) {
    const [createdAt, id] = after;
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(new Date(createdAt), id)));
  }
  const rows = await query.execute();
  const shown = rows.slice(0, page.limit);
  const last = shown[shown.length - 1];
  return {
    data: await loadOrderDtos(q, shown.map((row) => row.id)),
    nextCursor: rows.length > page.limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
  };
}

/**
 * POST /test-payments/:id — the test payment page's Pay or Decline, by the buyer of a pending test order. Queues the
 * same provider event a real payment would cause ('payments.event', keyed by the event id) and answers at once.
 */
export async function submitTestPayment(deps: Deps, actor: Actor, orderId: string, outcome: 'pay' | 'decline'): Promise<OrderDto> {
  if (deps.commerce.provider?.name !== 'test') throw new AppError('unavailable', 'Test payments are not enabled here.');
  const em = deps.orm.em.fork();
  const q = db(em);
  const order = await q.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
  if (!order || !(order.buyer_id === actor.userId || order.seller_id === actor.userId || isPlatformAdmin(actor))) {
    throw new AppError('not_found', 'No such order.');
  }
  if (order.buyer_id !== actor.userId) throw new AppError('forbidden', 'Only the buyer pays for an order.');
  if (order.provider !== 'test' || order.provider_payment_id === null) throw new AppError('conflict', 'This order is not paid on the test payment page.');
  if (order.status !== 'pending') throw new AppError('conflict', 'This order is no longer waiting for payment.');
  const event: PaymentEvent = {
    id: `test_evt_${crypto.randomUUID()}`,
    provider: 'test',
    type: outcome === 'pay' ? 'payment.succeeded' : 'payment.failed',
    paymentId: order.provider_payment_id,
    orderId: order.id,
    buyerId: order.buyer_id,
    amountMinor: order.total_minor,
    currency: order.currency,
    failureReason: outcome === 'decline' ? 'Declined on the test payment page.' : null,
  };
  await enqueueJob(em, 'payments.event', { event }, { jobKey: event.id });
  return loadOrderDto(q, order.id);
}
