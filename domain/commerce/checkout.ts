import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import type { CheckoutInput, CheckoutResponse, PaymentDto, QuoteResponse } from '../../contracts/commerce.ts';
import { db, type Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { enqueueJob } from '../shared/jobs.ts';
import { runAfterCommit, type AfterCommit } from './afterCommit.ts';
import { holdSeat } from './classroomSeats.ts';
import { lockCoupon, quoteCoupon, reserveCoupon } from './coupons.ts';
import './events.ts';
import { closeUnpaidOrder, markOrderPaid } from './fulfilment.ts';
import { lockOrder, type OrderRow } from './orderRows.ts';
import { loadOrderDto } from './orders.ts';
import { priceOrder, splitBundle, taxRateFor, type TaxRate } from './pricing.ts';
import { buyerRefusal, productOnSaleTo, type Product } from './products.ts';
import { startSubscription } from './subscriptions.ts';

/*
 * Checkout: the server prices the order (the client names a product, perhaps a coupon code and a country — never an
 * amount), snapshots it with its lines, reserves the coupon use and the classroom seat for the checkout's hold, and
 * queues the job that expires it; then asks the payment provider for a payment outside the transaction. A total of
 * zero (a 100 % coupon) is paid at once. Asking again while a checkout is pending answers the same order.
 */

const PROVIDER_DOWN = 'The payment provider could not be reached.';

interface Placed {
  order: OrderRow;
  product: Product;
  /** Work for after the commit (a zero total was paid inside the transaction). */
  after: AfterCommit[];
}

function presentTax(rate: TaxRate | null): QuoteResponse['tax'] {
  return rate && { country: rate.country, rateBps: rate.rateBps, inclusive: rate.inclusive, name: rate.name };
}

/** POST /checkout/quote — what the buyer would pay; reserves nothing. A coupon that does not apply says why. */
export async function quote(deps: Deps, actor: Actor, input: CheckoutInput): Promise<QuoteResponse> {
  const q = db(deps.orm.em.fork());
  const at = deps.clock.now();
  const product = await productOnSaleTo(q, actor, input.productId);
  const taxRate = await taxRateFor(q, input.country);
  let coupon: QuoteResponse['coupon'] = null;
  let discountMinor = 0;
  if (input.couponCode) {
    const judged = await quoteCoupon(q, { code: input.couponCode, product, userId: actor.userId, subtotalMinor: product.priceMinor, at });
    coupon = { code: judged.code, valid: judged.valid, message: judged.valid ? null : judged.message };
    if (judged.valid) discountMinor = judged.discountMinor;
  }
  const price = priceOrder({ subtotal: product.priceMinor, discountMinor, taxRate, feePercent: deps.commerce.platformFeePercent });
  return {
    subtotalMinor: price.subtotalMinor,
    discountMinor: price.discountMinor,
    taxMinor: price.taxMinor,
    totalMinor: price.totalMinor,
    currency: product.currency,
    tax: presentTax(taxRate),
    coupon,
  };
}

/** Inside the checkout's transaction: the buyer's pending order for the same product, coupon and tax country, if any. */
async function pendingOrder(q: Db, buyerId: string, productId: string, couponCode: string | null, taxCountry: string | null, at: Date) {
  return q
    .selectFrom('orders')
    .selectAll()
    .where('buyer_id', '=', buyerId)
    .where('product_id', '=', productId)
    .where('status', '=', 'pending')
    .where('expires_at', '>', at)
    .where(sql<boolean>`coupon_code is not distinct from ${couponCode}`)
    .where(sql<boolean>`tax_country is not distinct from ${taxCountry}`)
    .orderBy('created_at', 'desc')
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
}

async function placeOrder(deps: Deps, tx: EntityManager, actor: Actor, input: CheckoutInput, providerName: 'stripe' | 'test', at: Date): Promise<Placed> {
  const q = db(tx);
  // One checkout of a product per buyer at a time: a double click finds the first one's order.
  await sql`select pg_advisory_xact_lock(hashtextextended(${`checkout:${actor.userId}:${input.productId}`}, 0))`.execute(q);
  const product = await productOnSaleTo(q, actor, input.productId);
  const taxRate = await taxRateFor(q, input.country);
  const couponCode = input.couponCode ?? null;

  const pending = await pendingOrder(q, actor.userId, product.id, couponCode, taxRate?.country ?? null, at);
  // A Stripe subscription's first invoice cannot be asked for again: that checkout is left to expire.
  if (pending && !(pending.subscription_id !== null && providerName === 'stripe')) return { order: pending, product, after: [] };

  const refusal = await buyerRefusal(q, actor.userId, product, at);
  if (refusal) throw refusal;

  const coupon = couponCode ? await lockCoupon(q, { code: couponCode, product, userId: actor.userId, subtotalMinor: product.priceMinor, at }) : null;
  const price = priceOrder({
    subtotal: product.priceMinor,
    discountMinor: coupon?.discountMinor ?? 0,
    taxRate,
    feePercent: deps.commerce.platformFeePercent,
  });
  const orderId = crypto.randomUUID();
  const expiresAt = new Date(at.getTime() + deps.commerce.checkoutHoldMinutes * 60_000);
  const order = await q
    .insertInto('orders')
    .values({
      id: orderId,
      buyer_id: actor.userId,
      seller_id: product.sellerId,
      product_type: product.type,
      product_id: product.id,
      title: product.title.slice(0, 200),
      status: 'pending',
      currency: product.currency,
      subtotal_minor: price.subtotalMinor,
      discount_minor: price.discountMinor,
      tax_minor: price.taxMinor,
      total_minor: price.totalMinor,
      platform_fee_minor: price.platformFeeMinor,
      tax_country: taxRate?.country ?? null,
      tax_rate_bps: taxRate?.rateBps ?? 0,
      tax_inclusive: taxRate?.inclusive ?? false,
      coupon_id: coupon?.couponId ?? null,
      coupon_code: coupon?.code ?? null,
      provider: price.totalMinor === 0 ? 'none' : providerName,
      created_at: at,
      updated_at: at,
      expires_at: expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();

  // A bundle's lines share its price by list price; anything else is one line at its price.
  const shares = product.type === 'bundle' ? splitBundle(product.priceMinor, product.grants.map((g) => g.listPriceMinor)) : [product.priceMinor];
  await q
    .insertInto('order_lines')
    .values(
      product.grants.map((grant, position) => ({
        id: crypto.randomUUID(),
        order_id: orderId,
        resource_type: grant.type,
        resource_id: grant.id,
        title: grant.title.slice(0, 200),
        amount_minor: shares[position] ?? 0,
        position,
      })),
    )
    .execute();

  if (couponCode) {
    const reserved = await reserveCoupon(q, { code: couponCode, product, userId: actor.userId, orderId, subtotalMinor: product.priceMinor, at });
    if (reserved.discountMinor !== price.discountMinor) throw new Error('coupon discount changed under its own lock');
  }
  if (product.type === 'classroom') await holdSeat(q, { classroomId: product.id, userId: actor.userId, orderId, until: expiresAt, at });

  if (order.total_minor === 0) {
    // Nothing to pay (a 100 % coupon): paid now, in the transaction that placed it.
    const locked = (await lockOrder(q, orderId))!;
    return { order: locked, product, after: await markOrderPaid(deps, q, locked, at) };
  }
  await enqueueJob(tx, 'orders.expire', { orderId }, { jobKey: `orders.expire:${orderId}`, runAt: expiresAt });
  return { order, product, after: [] };
}

/** After a provider failure: the order will not be paid (its coupon use and seat go back). */
async function failOrder(deps: Deps, orderId: string, at: Date): Promise<void> {
  const after = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const order = await lockOrder(q, orderId);
    if (!order || order.status !== 'pending') return [];
    return closeUnpaidOrder(deps, q, order, 'failed', PROVIDER_DOWN, at);
  });
  await runAfterCommit(after);
}

/** The provider's side of a pending order: a payment (or, for a tier, a subscription whose first invoice is paid). */
async function startPayment(deps: Deps, order: OrderRow, product: Product): Promise<string | null> {
  const provider = deps.commerce.provider!;
  // Test payments need nothing more once started (the page is the order's); a repeated checkout answers the page again.
  if (provider.name === 'test' && (order.provider_payment_id !== null || order.subscription_id !== null)) return null;
  if (product.type === 'tier') return (await startSubscription(deps, order, product.id)).clientSecret;
  // Idempotent by order id at the provider, so a repeated checkout of a pending order gets the same payment.
  const created = await provider.createPayment({
    orderId: order.id,
    buyerId: order.buyer_id,
    amountMinor: order.total_minor,
    currency: order.currency,
    description: order.title,
  });
  if (order.provider_payment_id !== created.paymentId) {
    await db(deps.orm.em.fork())
      .updateTable('orders')
      .set({ provider_payment_id: created.paymentId, updated_at: deps.clock.now() })
      .where('id', '=', order.id)
      .where('provider_payment_id', 'is', null)
      .execute();
  }
  return created.clientSecret;
}

/** POST /checkout — a pending order priced by the server, and how to pay it. */
export async function checkout(deps: Deps, actor: Actor, input: CheckoutInput): Promise<CheckoutResponse> {
  const provider = deps.commerce.provider;
  if (!provider) throw new AppError('unavailable', 'Payments are not configured on this server.');
  const at = deps.clock.now();
  const placed = await deps.orm.em.fork().transactional((tx) => placeOrder(deps, tx as EntityManager, actor, input, provider.name, at));
  await runAfterCommit(placed.after);
  const { order, product } = placed;

  let payment: PaymentDto;
  if (order.provider === 'none') {
    payment = { provider: 'none' };
  } else {
    let clientSecret: string | null;
    try {
      clientSecret = await startPayment(deps, order, product);
    } catch (err) {
      deps.logger.warn({ err, orderId: order.id }, 'checkout: the payment could not be started');
      await failOrder(deps, order.id, deps.clock.now());
      if (err instanceof AppError) throw err;
      throw new AppError('unavailable', `${PROVIDER_DOWN} Please try again in a moment.`);
    }
    if (order.provider === 'stripe') {
      if (!clientSecret) throw new Error(`stripe answered no client secret for order ${order.id}`);
      payment = { provider: 'stripe', clientSecret, publishableKey: deps.commerce.publishableKey ?? '' };
    } else {
      payment = { provider: 'test', paymentUrl: `/app/checkout/test/${order.id}` };
    }
  }
  return { order: await loadOrderDto(db(deps.orm.em.fork()), order.id), payment };
}
