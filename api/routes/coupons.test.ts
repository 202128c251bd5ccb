import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CouponDto } from '../../contracts/commerce.ts';
import { consumeCoupon, releaseCoupon, reserveCoupon } from '../../domain/commerce/coupons.ts';
import { loadProduct, type Product } from '../../domain/commerce/products.ts';
import { AppError } from '../../domain/shared/errors.ts';
import { db } from '../../orm/db.ts';
import { createCouponAs, pricedCourse } from '../../test/commerceFactories.ts';
import { call, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node?.close();
});

/** A pending order of `buyer` for the product, straight in the database (a reservation references its order). */
async function pendingOrderRow(product: Product, buyer: TestUser): Promise<string> {
  const id = crypto.randomUUID();
  const now = new Date();
  await dbOf(node)
    .insertInto('orders')
    .values({
      id,
      buyer_id: buyer.user.id,
      seller_id: product.sellerId,
      product_type: product.type,
      product_id: product.id,
      title: product.title,
      currency: product.currency,
      subtotal_minor: product.priceMinor,
      total_minor: product.priceMinor,
      provider: 'test',
      created_at: now,
      updated_at: now,
      expires_at: new Date(now.getTime() + 15 * 60_000),
    })
    .execute();
  return id;
}

/** reserveCoupon in a transaction of its own, as a checkout runs it. */
function reserve(product: Product, buyer: TestUser, orderId: string, code: string, at = new Date()) {
  return node.node.orm.em.fork().transactional(async (tx) =>
    reserveCoupon(db(tx), { code, product, userId: buyer.user.id, orderId, subtotalMinor: product.priceMinor, at }),
  );
}

const counts = (couponId: string) =>
  dbOf(node).selectFrom('coupons').select(['reserved_count', 'redeemed_count']).where('id', '=', couponId).executeTakeFirstOrThrow();
const refusal = async (work: Promise<unknown>) => {
  const err = await work.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('invalid_input');
  expect((err as AppError).details).toEqual({ field: 'couponCode' });
  return (err as AppError).message;
};

describe('coupons', () => {
  it('a seller creates coupons for their products only, one code each, lists them and switches them off', async () => {
    const { course, instructor } = await pricedCourse(node);
    const other = await pricedCourse(node);
    const [stranger] = await registerUsers(node.url, 1);

    const coupon = await createCouponAs(node, instructor, { code: 'launch-25', productId: course.id, percentOff: 25, maxRedemptions: 10 });
    expect(coupon).toMatchObject({ code: 'LAUNCH-25', productId: course.id, kind: 'percent', percentOff: 25, reservedCount: 0, redeemedCount: 0, active: true });
    const everything = await createCouponAs(node, instructor, { code: 'TENOFF', amountOffMinor: 1000, currency: 'EUR' });
    expect(everything).toMatchObject({ productId: null, kind: 'amount', amountOffMinor: 1000, currency: 'EUR', percentOff: null });

    const duplicate = await call(node, 'POST', '/coupons', instructor, { code: 'Launch-25', percentOff: 10 });
    expect(duplicate.status).toBe(409);
    // Someone else's product is not mine to discount, and my code space is mine: another seller may reuse a code.
    expect((await call(node, 'POST', '/coupons', instructor, { code: 'THEIRS', productId: other.course.id, percentOff: 10 })).status).toBe(404);
    await createCouponAs(node, other.instructor, { code: 'LAUNCH-25', percentOff: 5 });
    const bad = [
      { code: 'NOPE', percentOff: 10, amountOffMinor: 100, currency: 'EUR' },
      { code: 'NOPE', amountOffMinor: 100 },
      { code: 'x', percentOff: 10 },
      { code: 'NOPE', percentOff: 101 },
      { code: 'NOPE', percentOff: 10, startsAt: '2030-01-02T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' },
      { code: 'NOPE', percentOff: 10, reservedCount: 3 },
      { code: 'NOPE', productId: course.id, amountOffMinor: 100, currency: 'USD' },
    ];
    for (const body of bad) expect((await call(node, 'POST', '/coupons', instructor, body)).status, JSON.stringify(body)).toBe(400);

    const mine = await ok(call<{ data: CouponDto[] }>(node, 'GET', '/me/coupons', instructor));
    expect(mine.data.map((c) => c.code)).toEqual(['TENOFF', 'LAUNCH-25']);
    expect((await ok(call<{ data: CouponDto[] }>(node, 'GET', '/me/coupons', stranger))).data).toEqual([]);

    expect((await call(node, 'PATCH', `/coupons/${coupon.id}`, stranger, { active: false })).status).toBe(404);
    const off = await ok(call<CouponDto>(node, 'PATCH', `/coupons/${coupon.id}`, instructor, { active: false }));
    expect(off.active).toBe(false);
    expect((await call(node, 'POST', '/coupons', null, { code: 'ANON', percentOff: 10 })).status).toBe(401);
  });

  it('ten concurrent reservations of a five-use coupon reserve exactly five; release and consume move the counts once', async () => {
    const { course, instructor } = await pricedCourse(node);
    const product = (await loadProduct(dbOf(node), course.id))!;
    const coupon = await createCouponAs(node, instructor, { code: 'FIVE', percentOff: 50, maxRedemptions: 5 });
    const buyers = await registerUsers(node.url, 10);
    const orders = await Promise.all(buyers.map((b) => pendingOrderRow(product, b)));

    const results = await Promise.allSettled(buyers.map((b, i) => reserve(product, b, orders[i]!, 'five')));
    const reserved = results.filter((r) => r.status === 'fulfilled');
    expect(reserved).toHaveLength(5);
    for (const r of reserved) expect(r.value).toEqual({ couponId: coupon.id, code: 'FIVE', discountMinor: 2450 });
    for (const r of results.filter((x) => x.status === 'rejected')) expect((r.reason as AppError).message).toBe('This coupon has been used up.');
    expect(await counts(coupon.id)).toEqual({ reserved_count: 5, redeemed_count: 0 });

    const held = await dbOf(node).selectFrom('coupon_redemptions').select(['order_id', 'status']).where('coupon_id', '=', coupon.id).execute();
    expect(held).toHaveLength(5);
    const [first, second] = held.map((h) => h.order_id);
    const inTx = (work: (q: ReturnType<typeof db>) => Promise<void>) => node.node.orm.em.fork().transactional((tx) => work(db(tx)));

    await inTx((q) => releaseCoupon(q, first!, new Date()));
    await inTx((q) => releaseCoupon(q, first!, new Date()));
    expect(await counts(coupon.id)).toEqual({ reserved_count: 4, redeemed_count: 0 });
    await inTx((q) => consumeCoupon(q, second!, new Date()));
    await inTx((q) => consumeCoupon(q, second!, new Date()));
    await inTx((q) => releaseCoupon(q, second!, new Date()));
    expect(await counts(coupon.id)).toEqual({ reserved_count: 3, redeemed_count: 1 });

    // The released use freed a place: an eleventh buyer gets it; the twelfth finds it used up again.
    const [late, later] = await registerUsers(node.url, 2);
    await reserve(product, late, await pendingOrderRow(product, late), 'FIVE');
    expect(await refusal(reserve(product, later, await pendingOrderRow(product, later), 'FIVE'))).toBe('This coupon has been used up.');
    // Money that arrives for the released checkout once the coupon is full again keeps its price without overfilling it.
    await inTx((q) => consumeCoupon(q, first!, new Date()));
    expect(await counts(coupon.id)).toEqual({ reserved_count: 4, redeemed_count: 1 });
    await inTx((q) => releaseCoupon(q, held[2]!.order_id, new Date()));
    await inTx((q) => consumeCoupon(q, first!, new Date()));
    expect(await counts(coupon.id)).toEqual({ reserved_count: 3, redeemed_count: 2 });
  });

  it('a coupon applies within its window, while active, to its product, in its currency and up to its per-user limit', async () => {
    const { course, instructor } = await pricedCourse(node);
    const other = await pricedCourse(node);
    const otherProduct = (await loadProduct(dbOf(node), other.course.id))!;
    const product = (await loadProduct(dbOf(node), course.id))!;
    const [buyer, second] = await registerUsers(node.url, 2);
    const now = Date.now();
    const iso = (ms: number) => new Date(now + ms).toISOString();
    await createCouponAs(node, instructor, { code: 'SOON', percentOff: 10, startsAt: iso(3_600_000) });
    await createCouponAs(node, instructor, { code: 'OVER', percentOff: 10, endsAt: iso(-1000) });
    const off = await createCouponAs(node, instructor, { code: 'PAUSED', percentOff: 10 });
    await ok(call(node, 'PATCH', `/coupons/${off.id}`, instructor, { active: false }));
    await createCouponAs(node, instructor, { code: 'ONLYTHIS', productId: course.id, percentOff: 10 });
    await createCouponAs(node, instructor, { code: 'DOLLARS', amountOffMinor: 500, currency: 'USD' });
    await createCouponAs(node, instructor, { code: 'ONCE', amountOffMinor: 6000, currency: 'EUR', maxPerUser: 1 });
    await createCouponAs(node, other.instructor, { code: 'ONLYTHIS', percentOff: 10 });

    const order = () => pendingOrderRow(product, buyer);
    expect(await refusal(reserve(product, buyer, await order(), 'SOON'))).toBe('This coupon is not valid yet.');
    expect(await refusal(reserve(product, buyer, await order(), 'OVER'))).toBe('This coupon has expired.');
    expect(await refusal(reserve(product, buyer, await order(), 'PAUSED'))).toBe('This coupon is no longer active.');
    expect(await refusal(reserve(product, buyer, await order(), 'NOSUCH'))).toBe('There is no such coupon.');
    expect(await refusal(reserve(product, buyer, await order(), 'DOLLARS'))).toContain('USD');
    // The same code of another seller is theirs: instructor's ONLYTHIS does not apply to another seller's course.
    const elsewhere = await pendingOrderRow(otherProduct, buyer);
    expect(await reserve(otherProduct, buyer, elsewhere, 'ONLYTHIS')).toMatchObject({ discountMinor: 490 });
    expect(await reserve(product, buyer, await order(), 'onlythis')).toMatchObject({ discountMinor: 490 });

    // An amount larger than the price takes the price off; once per user.
    const once = await order();
    expect(await reserve(product, buyer, once, 'ONCE')).toMatchObject({ discountMinor: 4900 });
    expect(await refusal(reserve(product, buyer, await order(), 'ONCE'))).toBe('You have already used this coupon as often as it allows.');
    expect(await reserve(product, second, await pendingOrderRow(product, second), 'ONCE')).toMatchObject({ discountMinor: 4900 });
    // A released use (the checkout expired) no longer counts against the buyer.
    await node.node.orm.em.fork().transactional((tx) => releaseCoupon(db(tx), once, new Date()));
    expect(await reserve(product, buyer, await order(), 'ONCE')).toMatchObject({ discountMinor: 4900 });
  });
});
