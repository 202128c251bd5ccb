import { sql } from 'kysely';
import type { Db } from '../../orm/db.ts';
import { EMAIL_MAX_ATTEMPTS } from '../notifications/outbox.ts';
import type { Deps } from '../shared/deps.ts';
import { loadOrderDto } from './orders.ts';

/*
 * The receipt e-mailed to the buyer when an order is paid. It goes through the e-mail outbox in the transaction that
 * marks the order paid, so a receipt exists exactly when the payment was recorded, and a duplicate payment event
 * (which changes nothing) sends none.
 */

/** An amount in minor units as people write it, in the currency's own number of decimals (JPY has none). */
export function formatMoney(minor: number, currency: string): string {
  try {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(minor / 10 ** digits);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

/** The receipt's text: what was bought, what it cost (discount and tax shown), and where to find the order. */
export function receiptBody(order: Awaited<ReturnType<typeof loadOrderDto>>, link: string): string {
  const money = (minor: number) => formatMoney(minor, order.currency);
  const lines = [
    `Hello ${order.buyer.displayName},`,
    '',
    `thank you for your purchase from ${order.seller.displayName}. Your payment was received.`,
    '',
    `Order ${order.id}`,
    ...order.lines.map((line) => `  ${line.title}  ${money(line.amountMinor)}`),
    '',
    `Subtotal: ${money(order.subtotalMinor)}`,
    ...(order.discountMinor > 0 ? [`Discount${order.couponCode ? ` (${order.couponCode})` : ''}: -${money(order.discountMinor)}`] : []),
    ...(order.tax
      ? [`${order.tax.name} ${order.tax.rateBps / 100}% (${order.tax.country}${order.tax.inclusive ? ', included' : ''}): ${money(order.taxMinor)}`]
      : []),
    `Total paid: ${money(order.totalMinor)}`,
    '',
    `Your order and what it unlocked: ${link}`,
  ];
  return lines.join('\n');
}

/** Queues the buyer's receipt inside the transaction that marked the order paid. */
export async function queueReceipt(deps: Deps, q: Db, orderId: string): Promise<void> {
  const order = await loadOrderDto(q, orderId);
  const buyer = await q.selectFrom('users').select('email').where('id', '=', order.buyer.id).executeTakeFirstOrThrow();
  const id = crypto.randomUUID();
  await q
    .insertInto('email_outbox')
    .values({
      id,
      recipient: buyer.email,
      subject: `Your receipt: ${order.title}`.slice(0, 200),
      body: receiptBody(order, `${deps.auth.publicUrl}/app/orders/${order.id}`),
      created_at: deps.clock.now(),
      next_attempt_at: deps.clock.now(),
    })
    .execute();
  // The same job the outbox queues for every message (domain/notifications/outbox.ts), in this transaction.
  await sql`select graphile_worker.add_job(
      'email.send',
      ${JSON.stringify({ outboxId: id })}::json,
      max_attempts => ${EMAIL_MAX_ATTEMPTS}::smallint,
      job_key => ${`email:${id}`}::text
    )`.execute(q);
}
