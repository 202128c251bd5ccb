import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CouponDto, OrderDto, OrderList } from '../../contracts/commerce.ts';
import type { CourseEnvelope } from '../../contracts/courses.ts';
import { runAfterCommit } from '../../domain/commerce/afterCommit.ts';
import { revokeOrderLines } from '../../domain/commerce/grants.ts';
import { orderBalance } from '../../domain/commerce/ledger.ts';
import { lockOrder } from '../../domain/commerce/orderRows.ts';
import { db } from '../../orm/db.ts';
import { channelMemberIds } from '../../test/communities.ts';
import { checkoutAs, createCouponAs, payTestOrder, pricedCourse } from '../../test/commerceFactories.ts';
import { createEbook, userWithRole } from '../../test/ebookFactories.ts';
import { call, collect, connectSocket, eventually, ok, registerUsers, type ClientSocket } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
const sockets: ClientSocket[] = [];
beforeAll(async () => {
  node = await startNode({ env: { CHECKOUT_HOLD_MINUTES: '30' } });
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await node?.close();
});

async function checkout(buyer: Parameters<typeof checkoutAs>[1], body: Record<string, unknown>) {
  return (await ok(checkoutAs(node, buyer, body), 201)).order;
}

describe('orders', () => {
  it('paying on the test page: the order is paid, the course opens on the buyer’s open tab, the books balance and a receipt goes out', async () => {
    const { course, instructor } = await pricedCourse(node, { priceMinor: 4900, currency: 'EUR' });
    const [buyer, stranger] = await registerUsers(node.url, 2);
    const socket = await connectSocket(node.url, buyer.accessToken);
    sockets.push(socket);
    const orderEvents = collect(socket, 'order:updated');
    const granted = collect(socket, 'entitlement:granted');

    const pending = await checkout(buyer, { productId: course.id, country: 'DE' });
    expect(pending).toMatchObject({ status: 'pending', totalMinor: 4900, tax: { country: 'DE', name: 'MwSt', inclusive: true }, provider: 'test' });
    // Someone else's order: invisible to a stranger, the seller may read it but not pay it.
    expect((await call(node, 'GET', `/orders/${pending.id}`, stranger)).status).toBe(404);
    expect((await call(node, 'POST', `/test-payments/${pending.id}`, stranger, { outcome: 'pay' })).status).toBe(404);
    expect((await call(node, 'POST', `/test-payments/${pending.id}`, instructor, { outcome: 'pay' })).status).toBe(403);
    expect((await call(node, 'POST', `/test-payments/${pending.id}`, buyer, { outcome: 'pay', amountMinor: 1 })).status).toBe(400);

    const paid = await payTestOrder(node, buyer, pending.id, 'pay');
    expect(paid).toMatchObject({ id: pending.id, status: 'paid', failureReason: null, lines: [{ resourceType: 'course', resourceId: course.id, amountMinor: 4900 }] });
    expect(paid.paidAt).not.toBeNull();
    expect(await ok(call<OrderDto>(node, 'GET', `/orders/${pending.id}`, instructor))).toEqual(paid);

    const q = dbOf(node);
    const entitlements = await q.selectFrom('entitlements').select(['source', 'order_id', 'revoked_at']).where('user_id', '=', buyer.user.id).where('resource_id', '=', course.id).execute();
    expect(entitlements).toEqual([{ source: 'order', order_id: pending.id, revoked_at: null }]);
    const { course: seen } = await ok(call<CourseEnvelope>(node, 'GET', `/courses/${course.id}`, buyer));
    expect(seen.me).toMatchObject({ enrolled: true, canLearn: true });
    expect(await orderBalance(q, pending.id)).toBe(0);
    const ledger = await q.selectFrom('ledger_entries').select(['kind', 'account', 'amount_minor']).where('order_id', '=', pending.id).execute();
    expect(ledger).toContainEqual({ kind: 'payment', account: 'provider_clearing', amount_minor: 4900 });
    expect(pending.taxMinor).toBeGreaterThan(0);
    expect(ledger).toContainEqual({ kind: 'payment', account: 'tax_payable', amount_minor: -pending.taxMinor });

    await eventually(() => orderEvents.some((o) => o.id === pending.id && o.status === 'paid') && granted.length > 0, 5000, 'live events');
    expect(granted).toContainEqual({ resourceType: 'course', resourceId: course.id, orderId: pending.id });

    const receipts = await q.selectFrom('email_outbox').select(['subject', 'body']).where('recipient', '=', buyer.user.email).where('subject', 'like', 'Your receipt%').execute();
    expect(receipts).toHaveLength(1);
    const receipt = receipts[0]!;
    expect(receipt.subject).toContain(course.title);
    expect(receipt.body).toContain('€49.00');
    expect(receipt.body).toContain(`/app/orders/${pending.id}`);

    // Paid is final for the page's buttons.
    expect((await call(node, 'POST', `/test-payments/${pending.id}`, buyer, { outcome: 'decline' })).status).toBe(409);
  });

  it('declining: the order fails with the reason, its coupon use is given back and the course stays closed', async () => {
    const { course, instructor } = await pricedCourse(node, { priceMinor: 2000, currency: 'USD' });
    const coupon = await createCouponAs(node, instructor, { code: `HALF${Date.now().toString(36).toUpperCase()}`, percentOff: 50, maxRedemptions: 1 });
    const [buyer] = await registerUsers(node.url, 1);
    const pending = await checkout(buyer, { productId: course.id, couponCode: coupon.code });
    expect(pending).toMatchObject({ status: 'pending', discountMinor: 1000, totalMinor: 1000, couponCode: coupon.code });
    const reservedCoupon = async () =>
      (await ok(call<{ data: CouponDto[] }>(node, 'GET', '/me/coupons', instructor))).data.find((c) => c.id === coupon.id)!;
    expect(await reservedCoupon()).toMatchObject({ reservedCount: 1, redeemedCount: 0 });

    const failed = await payTestOrder(node, buyer, pending.id, 'decline');
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'Declined on the test payment page.', paidAt: null });
    expect(await reservedCoupon()).toMatchObject({ reservedCount: 0, redeemedCount: 0 });
    const q = dbOf(node);
    expect(await q.selectFrom('coupon_redemptions').select('status').where('order_id', '=', pending.id).executeTakeFirst()).toEqual({ status: 'released' });
    expect(await q.selectFrom('entitlements').select('id').where('user_id', '=', buyer.user.id).execute()).toEqual([]);
    expect(await q.selectFrom('ledger_entries').select('id').where('order_id', '=', pending.id).execute()).toEqual([]);
    expect((await call(node, 'POST', `/courses/${course.id}/enrol`, buyer)).status).toBe(409);
  });

  it('my orders, newest first in pages; a paid ebook is mine to claim', async () => {
    const author = await userWithRole(node, 'instructor');
    const ebook = await createEbook(node, author, { priceMinor: 900, currency: 'GBP' });
    const [first, second] = await Promise.all([pricedCourse(node), pricedCourse(node)]);
    const [buyer, other] = await registerUsers(node.url, 2);
    const ebookOrder = await checkout(buyer, { productId: ebook.id });
    const a = await checkout(buyer, { productId: first.course.id });
    const b = await checkout(buyer, { productId: second.course.id });
    await checkout(other, { productId: first.course.id });

    expect((await call(node, 'POST', `/ebooks/${ebook.id}/claim`, buyer)).status).toBe(409);
    await payTestOrder(node, buyer, ebookOrder.id, 'pay');
    expect((await call(node, 'POST', `/ebooks/${ebook.id}/claim`, buyer)).status).toBe(200);

    const page1 = await ok(call<OrderList>(node, 'GET', '/me/orders?limit=2', buyer));
    expect(page1.data.map((o) => o.id)).toEqual([b.id, a.id]);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await ok(call<OrderList>(node, 'GET', `/me/orders?limit=2&cursor=${page1.nextCursor}`, buyer));
    expect(page2.data.map((o) => o.id)).toEqual([ebookOrder.id]);
    expect(page2.data[0]).toMatchObject({ status: 'paid', productType: 'ebook', currency: 'GBP' });
    expect(page2.nextCursor).toBeNull();
    expect((await call(node, 'GET', '/me/orders?cursor=nonsense', buyer)).status).toBe(400);
    expect((await call(node, 'GET', '/me/orders?limit=0', buyer)).status).toBe(400);
    expect((await call(node, 'GET', '/me/orders')).status).toBe(401);
  });

  it('closing what an order opened (a full refund, a lost dispute) takes the lessons and the discussion, live, and keeps the progress', async () => {
    const { course } = await pricedCourse(node);
    const [buyer] = await registerUsers(node.url, 1);
    const order = await checkout(buyer, { productId: course.id });
    await payTestOrder(node, buyer, order.id, 'pay');
    expect(await channelMemberIds(node, course.channelId!)).toContain(buyer.user.id);
    const socket = await connectSocket(node.url, buyer.accessToken);
    sockets.push(socket);
    const revoked = collect(socket, 'entitlement:revoked');
    const removed = collect(socket, 'channel:removed');

    const deps = node.node.deps;
    const after = await deps.orm.em.fork().transactional(async (tx) => {
      const q = db(tx);
      return revokeOrderLines(deps, q, (await lockOrder(q, order.id))!, deps.clock.now());
    });
    await runAfterCommit(after);

    await eventually(() => revoked.length > 0 && removed.length > 0, 5000, 'live revocation');
    expect(revoked).toEqual([{ resourceType: 'course', resourceId: course.id, orderId: order.id }]);
    expect(removed).toEqual([{ channelId: course.channelId }]);
    expect(await channelMemberIds(node, course.channelId!)).not.toContain(buyer.user.id);
    const { course: seen } = await ok(call<CourseEnvelope>(node, 'GET', `/courses/${course.id}`, buyer));
    expect(seen.me).toMatchObject({ canLearn: false });
    const q = dbOf(node);
    expect(await q.selectFrom('course_enrolments').select('user_id').where('course_id', '=', course.id).execute()).toEqual([{ user_id: buyer.user.id }]);
    expect((await call(node, 'POST', `/courses/${course.id}/enrol`, buyer)).status).toBe(409);
  });
});
