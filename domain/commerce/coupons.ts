import { sql, type Selectable } from 'kysely';
import type { CouponDto, CreateCouponInput } from '../../contracts/commerce.ts';
import { db, type DB, type Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError, isUniqueViolation } from '../shared/errors.ts';
import { couponFitsCurrency, discountFor } from './pricing.ts';
import { loadProduct, type Product } from './products.ts';

/*
 * Coupons of a seller, and their uses. A checkout locks the coupon row (so concurrent checkouts take uses one at a
 * time), checks its window and its total and per-user limits against reserved plus redeemed uses, and reserves one
 * (`coupon_redemptions`, status `reserved`); payment consumes it (`redeemed`), a failed or expired checkout releases
 * it (`released`). The table's check (reserved + redeemed ≤ max_redemptions) backs the rule in the database.
 */

type CouponRow = Selectable<DB['coupons']>;

export function presentCoupon(row: CouponRow): CouponDto {
  return {
    id: row.id,
    code: row.code,
    productId: row.product_id,
    kind: row.kind,
    percentOff: row.percent_off,
    amountOffMinor: row.amount_off_minor,
    currency: row.currency,
    startsAt: row.starts_at?.toISOString() ?? null,
    endsAt: row.ends_at?.toISOString() ?? null,
    maxRedemptions: row.max_redemptions,
    maxPerUser: row.max_per_user,
    reservedCount: row.reserved_count,
    redeemedCount: row.redeemed_count,
    active: row.active,
    createdAt: row.created_at.toISOString(),
  };
}

/** POST /coupons — a coupon for one of my products, or for everything I sell. */
export async function createCoupon(deps: Deps, actor: Actor, input: CreateCouponInput): Promise<CouponDto> {
  const q = db(deps.orm.em.fork());
  if (input.productId) {
    const product = await loadProduct(q, input.productId);
    if (!product || product.sellerId !== actor.userId) throw new AppError('not_found', 'You sell no such product.', { details: { field: 'productId' } });
    if (input.amountOffMinor !== undefined && product.currency !== input.currency) {
      throw new AppError('invalid_input', `This product is priced in ${product.currency}: an amount off must be in the same currency.`, {
        details: { field: 'currency' },
      });
    }
  }
  try {
    const row = await q
      .insertInto('coupons')
      .values({
        id: crypto.randomUUID(),
        seller_id: actor.userId,
        product_id: input.productId ?? null,
        code: input.code,
        kind: input.percentOff !== undefined ? 'percent' : 'amount',
        percent_off: input.percentOff ?? null,
        amount_off_minor: input.amountOffMinor ?? null,
        currency: input.amountOffMinor !== undefined ? (input.currency ?? null) : null,
        starts_at: input.startsAt ? new Date(input.startsAt) : null,
        ends_at: input.endsAt ? new Date(input.endsAt) : null,
        max_redemptions: input.maxRedemptions ?? null,
        max_per_user: input.maxPerUser ?? null,
        created_at: deps.clock.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return presentCoupon(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('conflict', `You already have a coupon ${input.code}.`, { details: { field: 'code' } });
    throw err;
  }
}

/** GET /me/coupons — newest first. */
export async function listMyCoupons(deps: Deps, actor: Actor): Promise<{ data: CouponDto[] }> {
  const rows = await db(deps.orm.em.fork())
    .selectFrom('coupons')
    .selectAll()
    .where('seller_id', '=', actor.userId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(500)
    .execute();
  return { data: rows.map(presentCoupon) };
}

/** PATCH /coupons/:id — switch a coupon on or off; only its seller (anyone else: `not_found`). */
export async function setCouponActive(deps: Deps, actor: Actor, couponId: string, active: boolean): Promise<CouponDto> {
  const row = await db(deps.orm.em.fork())
    .updateTable('coupons')
    .set({ active })
    .where('id', '=', couponId)
    .where('seller_id', '=', actor.userId)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such coupon.');
  return presentCoupon(row);
}

// ------------------------------------------------------------------ at checkout

export interface CouponCheck {
  code: string;
  product: Product;
  userId: string;
  subtotalMinor: number;
  at: Date;
}

const refuse = (message: string) => new AppError('invalid_input', message, { details: { field: 'couponCode' } });

/**
 * The coupon `code` of the product's seller, judged for this buyer at `at`: its discount, or an `invalid_input` error
 * saying why it does not apply. `lock` takes the coupon row FOR UPDATE (inside a transaction), so limits are judged
 * one checkout at a time.
 */
async function judgeCoupon(q: Db, input: CouponCheck, lock: boolean): Promise<{ coupon: CouponRow; discountMinor: number }> {
  let query = q.selectFrom('coupons').selectAll().where('seller_id', '=', input.product.sellerId).where('code', '=', input.code.trim().toUpperCase());
  if (lock) query = query.forUpdate();
  const coupon = await query.executeTakeFirst();
  if (!coupon) throw refuse('There is no such coupon.');
  if (!coupon.active) throw refuse('This coupon is no longer active.');
  if (coupon.starts_at && input.at < coupon.starts_at) throw refuse('This coupon is not valid yet.');
  if (coupon.ends_at && input.at >= coupon.ends_at) throw refuse('This coupon has expired.');
  if (coupon.product_id !== null && coupon.product_id !== input.product.id) throw refuse('This coupon is not valid for this product.');
  if (!couponFitsCurrency(coupon, input.product.currency)) throw refuse(`This coupon is in ${coupon.currency}; this product is priced in ${input.product.currency}.`);
  if (coupon.max_redemptions !== null && coupon.reserved_count + coupon.redeemed_count >= coupon.max_redemptions) {
    throw refuse('This coupon has been used up.');
  }
  if (coupon.max_per_user !== null) {
    const { used } = await q
      .selectFrom('coupon_redemptions')
      .select(sql<number>`count(*)::int`.as('used'))
      .where('coupon_id', '=', coupon.id)
      .where('user_id', '=', input.userId)
      .where('status', '<>', 'released')
      .executeTakeFirstOrThrow();
    if (used >= coupon.max_per_user) throw refuse('You have already used this coupon as often as it allows.');
  }
  return {
    coupon,
    discountMinor: discountFor(input.subtotalMinor, { kind: coupon.kind, percentOff: coupon.percent_off, amountOffMinor: coupon.amount_off_minor, currency: coupon.currency }, input.product.currency),
  };
}

/** Whether a code would apply now and what it would take off, reserving nothing (the live check of the quote). */
export async function quoteCoupon(
  q: Db,
  input: CouponCheck,
): Promise<{ valid: true; couponId: string; code: string; discountMinor: number } | { valid: false; code: string; message: string }> {
  try {
    const { coupon, discountMinor } = await judgeCoupon(q, input, false);
    return { valid: true, couponId: coupon.id, code: coupon.code, discountMinor };
  } catch (err) {
    if (err instanceof AppError && err.code === 'invalid_input') return { valid: false, code: input.code.trim().toUpperCase(), message: err.message };
    throw err;
  }
}

/**
 * Locks the coupon and judges it without reserving: the discount the order will carry. Checkout calls it before it
 * inserts the order (a reservation references the order), then `reserveCoupon` under the same lock.
 */
export async function lockCoupon(q: Db, input: CouponCheck): Promise<{ couponId: string; code: string; discountMinor: number }> {
  const { coupon, discountMinor } = await judgeCoupon(q, input, true);
  return { couponId: coupon.id, code: coupon.code, discountMinor };
}

/**
 * Reserves one use of the coupon for the order (which must exist), inside the checkout's transaction: locks the coupon
 * row, judges it, records the reservation and counts it. Refusals are `invalid_input` on the field `couponCode`.
 */
export async function reserveCoupon(
  q: Db,
  input: { code: string; product: Product; userId: string; orderId: string; subtotalMinor: number; at: Date },
): Promise<{ couponId: string; code: string; discountMinor: number }> {
  const { coupon, discountMinor } = await judgeCoupon(q, input, true);
  await q
    .insertInto('coupon_redemptions')
    .values({
      order_id: input.orderId,
      coupon_id: coupon.id,
      user_id: input.userId,
      status: 'reserved',
      discount_minor: discountMinor,
      created_at: input.at,
      updated_at: input.at,
    })
    .execute();
  await q
    .updateTable('coupons')
    .set((eb) => ({ reserved_count: eb('reserved_count', '+', 1) }))
    .where('id', '=', coupon.id)
    .execute();
  return { couponId: coupon.id, code: coupon.code, discountMinor };
}

/**
 * The order was paid: its reserved use becomes a redemption. A use already released (the checkout expired, then the
 * money arrived) is redeemed again if the coupon still has room; otherwise it stays released — the buyer keeps the
 * price they paid. No-op without a reservation or when already redeemed.
 */
export async function consumeCoupon(q: Db, orderId: string, at: Date): Promise<void> {
  const use = await q.selectFrom('coupon_redemptions').select(['coupon_id', 'status']).where('order_id', '=', orderId).forUpdate().executeTakeFirst();
  if (!use || use.status === 'redeemed') return;
  if (use.status === 'reserved') {
    await q
      .updateTable('coupons')
      .set((eb) => ({ reserved_count: eb('reserved_count', '-', 1), redeemed_count: eb('redeemed_count', '+', 1) }))
      .where('id', '=', use.coupon_id)
      .execute();
  } else {
    const counted = await q
      .updateTable('coupons')
      .set((eb) => ({ redeemed_count: eb('redeemed_count', '+', 1) }))
      .where('id', '=', use.coupon_id)
      .where((w) => w.or([w('max_redemptions', 'is', null), w(w('reserved_count', '+', w.ref('redeemed_count')), '<', w.ref('max_redemptions'))]))
      .returning('id')
      .executeTakeFirst();
    if (!counted) return;
  }
  await q.updateTable('coupon_redemptions').set({ status: 'redeemed', updated_at: at }).where('order_id', '=', orderId).execute();
}

/** The order will not be paid: its reserved use goes back to the coupon. No-op unless a use is reserved. */
export async function releaseCoupon(q: Db, orderId: string, at: Date): Promise<void> {
  const released = await q
    .updateTable('coupon_redemptions')
    .set({ status: 'released', updated_at: at })
    .where('order_id', '=', orderId)
    .where('status', '=', 'reserved')
    .returning('coupon_id')
    .executeTakeFirst();
  if (!released) return;
  await q
    .updateTable('coupons')
    .set((eb) => ({ reserved_count: eb('reserved_count', '-', 1) }))
    .where('id', '=', released.coupon_id)
    .execute();
}
