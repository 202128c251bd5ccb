import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProductDto, QuoteResponse } from '../../contracts/commerce.ts';
import type { CourseDetailDto } from '../../contracts/courses.ts';
import { classroomCommunity, scheduleClassroom } from '../../test/classroomFactories.ts';
import { checkoutAs, createCouponAs, payTestOrder, pricedCourse } from '../../test/commerceFactories.ts';
import { publishedCourse } from '../../test/courseFactories.ts';
import { call, ok, registerUsers } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node?.close();
});

const couponCounts = (couponId: string) =>
  dbOf(node).selectFrom('coupons').select(['reserved_count', 'redeemed_count']).where('id', '=', couponId).executeTakeFirstOrThrow();
const entitlementsOf = (userId: string, resourceId: string) =>
  dbOf(node).selectFrom('entitlements').select(['source', 'order_id', 'revoked_at']).where('user_id', '=', userId).where('resource_id', '=', resourceId).execute();

describe('checkout', () => {
  it('the server prices the order: a body with an amount is refused; tax is inside (DE) or on top (CA); the same checkout answers the same order', async () => {
    const { course, instructor } = await pricedCourse(node);
    const [buyer, canadian] = await registerUsers(node.url, 2);

    for (const extra of [{ amountMinor: 1 }, { priceMinor: 1 }, { totalMinor: 0 }]) {
      const res = await checkoutAs(node, buyer, { productId: course.id, ...extra });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_input' } });
    }
    expect((await checkoutAs(node, buyer, { productId: course.id, country: 'Germany' })).status).toBe(400);

    const placed = await ok(checkoutAs(node, buyer, { productId: course.id, country: 'de' }), 201);
    expect(placed.order).toMatchObject({
      status: 'pending',
      productType: 'course',
      productId: course.id,
      title: course.title,
      subtotalMinor: 4900,
      discountMinor: 0,
      taxMinor: 782,
      totalMinor: 4900,
      currency: 'EUR',
      tax: { country: 'DE', rateBps: 1900, inclusive: true, name: 'MwSt' },
      buyer: { id: buyer.user.id },
      seller: { id: instructor.user.id },
      provider: 'test',
      lines: [{ resourceType: 'course', resourceId: course.id, title: course.title, amountMinor: 4900 }],
    });
    expect(placed.payment).toEqual({ provider: 'test', paymentUrl: `/app/checkout/test/${placed.order.id}` });
    const row = await dbOf(node).selectFrom('orders').select(['platform_fee_minor', 'expires_at', 'created_at']).where('id', '=', placed.order.id).executeTakeFirstOrThrow();
    expect(row.platform_fee_minor).toBe(412); // 10 % of the price net of tax (4118)
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(15 * 60_000);
    // The checkout's hold ends with a job of its own.
    const expiry = await sql<{ run_at: Date }>`select run_at from graphile_worker.jobs where key = ${`orders.expire:${placed.order.id}`}`.execute(dbOf(node));
    expect(expiry.rows.map((r) => r.run_at.getTime())).toEqual([row.expires_at.getTime()]);

    // Asking again (a double click, a reload) answers the pending order; another country is another price.
    const again = await ok(checkoutAs(node, buyer, { productId: course.id, country: 'DE' }), 201);
    expect(again.order.id).toBe(placed.order.id);
    const exclusive = await ok(checkoutAs(node, canadian, { productId: course.id, country: 'CA' }), 201);
    expect(exclusive.order).toMatchObject({ subtotalMinor: 4900, taxMinor: 245, totalMinor: 5145, tax: { country: 'CA', inclusive: false } });
    const untaxed = await ok(checkoutAs(node, canadian, { productId: course.id, country: 'US' }), 201);
    expect(untaxed.order).toMatchObject({ taxMinor: 0, totalMinor: 4900, tax: null });
    expect(untaxed.order.id).not.toBe(exclusive.order.id);

    const quote = await ok(call<QuoteResponse>(node, 'POST', '/checkout/quote', buyer, { productId: course.id, country: 'CA' }));
    expect(quote).toEqual({ subtotalMinor: 4900, discountMinor: 0, taxMinor: 245, totalMinor: 5145, currency: 'EUR', tax: { country: 'CA', rateBps: 500, inclusive: false, name: 'GST' }, coupon: null });
  });

  it('coupons: a percentage and an amount off are priced in; a bad code is explained by the quote and refused by the checkout', async () => {
    const { course, instructor } = await pricedCourse(node);
    const [a, b, c] = await registerUsers(node.url, 3);
    const percent = await createCouponAs(node, instructor, { code: 'QUARTER', percentOff: 25 });
    await createCouponAs(node, instructor, { code: 'TENOFF', productId: course.id, amountOffMinor: 1000, currency: 'EUR' });
    await createCouponAs(node, instructor, { code: 'GONE', percentOff: 10, endsAt: new Date(Date.now() - 1000).toISOString() });
    const paused = await createCouponAs(node, instructor, { code: 'PAUSED', percentOff: 10 });
    await ok(call(node, 'PATCH', `/coupons/${paused.id}`, instructor, { active: false }));

    const quarter = await ok(checkoutAs(node, a, { productId: course.id, couponCode: 'quarter', country: 'DE' }), 201);
    // 4900 − 1225 = 3675, of which 19 % VAT inside: 3675 − round(3675 / 1.19) = 587.
    expect(quarter.order).toMatchObject({ subtotalMinor: 4900, discountMinor: 1225, taxMinor: 587, totalMinor: 3675, couponCode: 'QUARTER' });
    expect(await couponCounts(percent.id)).toEqual({ reserved_count: 1, redeemed_count: 0 });
    const tenOff = await ok(checkoutAs(node, b, { productId: course.id, couponCode: 'TENOFF', country: 'CA' }), 201);
    expect(tenOff.order).toMatchObject({ subtotalMinor: 4900, discountMinor: 1000, taxMinor: 195, totalMinor: 4095 });

    const quoted = await ok(call<QuoteResponse>(node, 'POST', '/checkout/quote', c, { productId: course.id, couponCode: 'TENOFF' }));
    expect(quoted).toMatchObject({ discountMinor: 1000, totalMinor: 3900, coupon: { code: 'TENOFF', valid: true, message: null } });
    for (const [code, message] of [
      ['GONE', 'This coupon has expired.'],
      ['PAUSED', 'This coupon is no longer active.'],
      ['NOSUCH', 'There is no such coupon.'],
    ] as const) {
      const bad = await ok(call<QuoteResponse>(node, 'POST', '/checkout/quote', c, { productId: course.id, couponCode: code }));
      expect(bad).toMatchObject({ discountMinor: 0, totalMinor: 4900, coupon: { code, valid: false, message } });
      const refused = await checkoutAs(node, c, { productId: course.id, couponCode: code });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: { code: 'invalid_input', message, details: { field: 'couponCode' } } });
    }
    // A refused checkout left nothing behind.
    expect(await dbOf(node).selectFrom('orders').select('id').where('buyer_id', '=', c.user.id).execute()).toEqual([]);
  });

  it('a per-user limit counts pending and paid uses; a declined payment gives the use back', async () => {
    const { course, instructor } = await pricedCourse(node);
    const [buyer] = await registerUsers(node.url, 1);
    const once = await createCouponAs(node, instructor, { code: 'ONCE', percentOff: 50, maxPerUser: 1 });
    const first = await ok(checkoutAs(node, buyer, { productId: course.id, couponCode: 'ONCE' }), 201);
    // Another country is another order: the buyer's one use is already reserved by the first.
    const second = await checkoutAs(node, buyer, { productId: course.id, couponCode: 'ONCE', country: 'CA' });
    expect(second.status).toBe(400);
    expect(second.body).toMatchObject({ error: { message: 'You have already used this coupon as often as it allows.' } });

    const declined = await payTestOrder(node, buyer, first.order.id, 'decline');
    expect(declined.status).toBe('failed');
    expect(await couponCounts(once.id)).toEqual({ reserved_count: 0, redeemed_count: 0 });
    const retry = await ok(checkoutAs(node, buyer, { productId: course.id, couponCode: 'ONCE' }), 201);
    expect(retry.order.id).not.toBe(first.order.id);
    const paid = await payTestOrder(node, buyer, retry.order.id, 'pay');
    expect(paid).toMatchObject({ status: 'paid', totalMinor: 2450 });
    expect(await couponCounts(once.id)).toEqual({ reserved_count: 0, redeemed_count: 1 });
    expect(await entitlementsOf(buyer.user.id, course.id)).toEqual([{ source: 'order', order_id: retry.order.id, revoked_at: null }]);
    // Owned now.
    const owned = await checkoutAs(node, buyer, { productId: course.id });
    expect(owned.status).toBe(409);
    expect(owned.body).toMatchObject({ error: { message: 'You already own this.' } });
    const product = await ok(call<ProductDto>(node, 'GET', `/products/${course.id}`, buyer));
    expect(product.owned).toBe(true);
  });

  it('ten buyers at once against a five-use coupon: five orders carry the discount, five are told it is used up', async () => {
    const { course, instructor } = await pricedCourse(node);
    const coupon = await createCouponAs(node, instructor, { code: 'FIRSTFIVE', percentOff: 40, maxRedemptions: 5 });
    const buyers = await registerUsers(node.url, 10);
    const results = await Promise.all(buyers.map((b) => checkoutAs(node, b, { productId: course.id, couponCode: 'FIRSTFIVE' })));
    const placed = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    expect(placed).toHaveLength(5);
    for (const r of placed) expect(r.body.order).toMatchObject({ discountMinor: 1960, totalMinor: 2940, couponCode: 'FIRSTFIVE' });
    for (const r of refused) expect(r).toMatchObject({ status: 400, body: { error: { code: 'invalid_input', message: 'This coupon has been used up.' } } });
    expect(await couponCounts(coupon.id)).toEqual({ reserved_count: 5, redeemed_count: 0 });
    const orders = await dbOf(node).selectFrom('orders').select('discount_minor').where('product_id', '=', course.id).execute();
    expect(orders.map((o) => o.discount_minor)).toEqual([1960, 1960, 1960, 1960, 1960]);
  });

  it('a 100 % coupon pays the order at once and opens the course', async () => {
    const { course, instructor } = await pricedCourse(node);
    const [buyer] = await registerUsers(node.url, 1);
    const free = await createCouponAs(node, instructor, { code: 'ONTHEHOUSE', productId: course.id, percentOff: 100 });
    const res = await ok(checkoutAs(node, buyer, { productId: course.id, couponCode: 'ONTHEHOUSE', country: 'CA' }), 201);
    expect(res.payment).toEqual({ provider: 'none' });
    expect(res.order).toMatchObject({ status: 'paid', provider: 'none', subtotalMinor: 4900, discountMinor: 4900, taxMinor: 0, totalMinor: 0 });
    expect(await couponCounts(free.id)).toEqual({ reserved_count: 0, redeemed_count: 1 });
    expect(await entitlementsOf(buyer.user.id, course.id)).toEqual([{ source: 'order', order_id: res.order.id, revoked_at: null }]);
    const detail = await ok(call<CourseDetailDto>(node, 'GET', `/courses/${course.id}`, buyer));
    expect(detail.course.me).toMatchObject({ enrolled: true, canLearn: true });
    expect((await checkoutAs(node, buyer, { productId: course.id })).status).toBe(409);
  });

  it('what may be bought: not your own, not a free thing, not what you cannot see; products say what they grant', async () => {
    const { course, instructor } = await pricedCourse(node, { priceMinor: 2900, currency: 'USD' });
    const [buyer] = await registerUsers(node.url, 1);
    const own = await checkoutAs(node, instructor, { productId: course.id });
    expect(own.status).toBe(409);
    expect((await checkoutAs(node, buyer, { productId: crypto.randomUUID() })).status).toBe(404);
    expect((await call(node, 'POST', '/checkout/quote', buyer, { productId: crypto.randomUUID() })).status).toBe(404);
    const { course: freeCourse } = await publishedCourse(node, { author: instructor, lessons: 1 });
    const free = await checkoutAs(node, buyer, { productId: freeCourse.id });
    expect(free.status).toBe(409);
    expect(free.body).toMatchObject({ error: { code: 'conflict', message: expect.stringContaining('free') } });
    const draft = await ok(call(node, 'POST', '/courses', instructor, { title: 'Draft', level: 'beginner', priceMinor: 1000, currency: 'EUR' }), 201);
    expect((await checkoutAs(node, buyer, { productId: draft.course.id })).status).toBe(404);
    expect((await call(node, 'GET', `/products/${draft.course.id}`, null)).status).toBe(404);
    expect((await call(node, 'POST', '/checkout', null, { productId: course.id })).status).toBe(401);

    const product = await ok(call<ProductDto>(node, 'GET', `/products/${course.id}`, null));
    expect(product).toEqual({
      id: course.id,
      type: 'course',
      title: course.title,
      priceMinor: 2900,
      currency: 'USD',
      seller: { id: instructor.user.id, displayName: instructor.user.displayName },
      interval: null,
      grants: [{ type: 'course', id: course.id, title: course.title }],
      owned: false,
    });
  });

  it('a bundle shares its price over its items by list price; a class ticket holds a seat while the buyer pays', async () => {
    const { course, instructor } = await pricedCourse(node, { priceMinor: 4900 });
    const { course: second } = await publishedCourse(node, { author: instructor, lessons: 1, course: { priceMinor: 2900, currency: 'EUR' } });
    const bundleId = crypto.randomUUID();
    const q = dbOf(node);
    await q.insertInto('bundles').values({ id: bundleId, seller_id: instructor.user.id, title: 'Both courses', price_minor: 6000, currency: 'EUR', status: 'published' }).execute();
    await q
      .insertInto('bundle_items')
      .values([
        { bundle_id: bundleId, item_type: 'course', item_id: course.id, position: 0 },
        { bundle_id: bundleId, item_type: 'course', item_id: second.id, position: 1 },
      ])
      .execute();
    const { communityId, host, learners } = await classroomCommunity(node, 1);
    const buyer = learners[0]!;
    const bundle = await ok(checkoutAs(node, buyer, { productId: bundleId }), 201);
    expect(bundle.order).toMatchObject({ productType: 'bundle', subtotalMinor: 6000, totalMinor: 6000, seller: { id: instructor.user.id } });
    expect(bundle.order.lines.map((l) => [l.resourceId, l.amountMinor])).toEqual([
      [course.id, 3769],
      [second.id, 2231],
    ]);
    const paid = await payTestOrder(node, buyer, bundle.order.id, 'pay');
    expect(paid.status).toBe('paid');
    expect(await entitlementsOf(buyer.user.id, course.id)).toHaveLength(1);
    expect(await entitlementsOf(buyer.user.id, second.id)).toHaveLength(1);
    expect((await checkoutAs(node, buyer, { productId: course.id })).status).toBe(409);
    expect((await checkoutAs(node, buyer, { productId: bundleId })).status).toBe(409);

    const classroom = await scheduleClassroom(node, host, communityId, { priceMinor: 1500, capacity: 1 });
    const ticket = await ok(checkoutAs(node, buyer, { productId: classroom.id, country: 'GB' }), 201);
    expect(ticket.order).toMatchObject({ productType: 'classroom', totalMinor: 1500, taxMinor: 250, seller: { id: host.user.id } });
    const seat = await q.selectFrom('classroom_registrations').select(['status', 'order_id']).where('classroom_id', '=', classroom.id).where('user_id', '=', buyer.user.id).executeTakeFirstOrThrow();
    expect(seat).toEqual({ status: 'held', order_id: ticket.order.id });
    expect((await checkoutAs(node, host, { productId: classroom.id })).status).toBe(409);
  });
});
