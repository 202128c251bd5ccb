import { describe, expect, it } from 'vitest';
import type { EntitlementEvent, OrderDto } from '$contracts/commerce.ts';
import { money, toMinor } from '$lib/components/commerce/money.ts';
import { followEntitlement, isNewerOrder, OrderFollower } from './commerce.svelte.ts';
import { FakeSocket } from './fakeSocket.ts';

const ORDER_ID = '00000000-0000-4000-8000-000000000001';
const COURSE_ID = '00000000-0000-4000-8000-000000000002';
const USER = { id: '00000000-0000-4000-8000-0000000000aa', displayName: 'Lena' };

function order(patch: Partial<OrderDto> = {}): OrderDto {
  return {
    id: ORDER_ID,
    status: 'pending',
    productType: 'course',
    productId: COURSE_ID,
    title: 'Watercolour',
    lines: [{ resourceType: 'course', resourceId: COURSE_ID, title: 'Watercolour', amountMinor: 2000 }],
    subtotalMinor: 2000,
    discountMinor: 1000,
    taxMinor: 0,
    totalMinor: 1000,
    refundedMinor: 0,
    currency: 'EUR',
    couponCode: 'HALF',
    tax: null,
    buyer: USER,
    seller: USER,
    provider: 'test',
    createdAt: '2026-12-06T10:00:00.000Z',
    expiresAt: '2026-12-06T10:30:00.000Z',
    paidAt: null,
    failureReason: null,
    ...patch,
  };
}

describe('an order followed live', () => {
  it('moves forward only: a late pending or a smaller refund is stale', () => {
    expect(isNewerOrder(order(), order({ status: 'paid' }))).toBe(true);
    expect(isNewerOrder(order({ status: 'paid' }), order())).toBe(false);
    expect(isNewerOrder(order({ status: 'paid' }), order({ status: 'failed' }))).toBe(false);
    expect(isNewerOrder(order({ status: 'partially_refunded', refundedMinor: 300 }), order({ status: 'partially_refunded', refundedMinor: 500 }))).toBe(true);
    expect(isNewerOrder(order({ status: 'partially_refunded', refundedMinor: 500 }), order({ status: 'partially_refunded', refundedMinor: 300 }))).toBe(false);
    expect(isNewerOrder(order(), order({ id: COURSE_ID, status: 'paid' }))).toBe(false);
  });

  it('applies order:updated for its own order, asks again after a reconnect, and lets go on detach', async () => {
    const socket = new FakeSocket();
    let latest: OrderDto | null = null;
    const follower = new OrderFollower({ initial: order(), fetchLatest: async () => latest });
    follower.attach(socket.socket);
    expect(follower.live).toBe(true);

    socket.push('order:updated', order({ id: COURSE_ID, status: 'paid' }));
    expect(follower.order.status).toBe('pending');
    socket.push('order:updated', order({ status: 'paid' }));
    expect(follower.order.status).toBe('paid');
    socket.push('order:updated', order({ status: 'pending' }));
    expect(follower.order.status).toBe('paid');

    socket.push('disconnect');
    expect(follower.live).toBe(false);
    latest = order({ status: 'refunded', refundedMinor: 1000 });
    socket.push('connect');
    await Promise.resolve();
    await Promise.resolve();
    expect(follower.order.status).toBe('refunded');

    follower.detach();
    expect(socket.listeners('order:updated')).toBe(0);
  });
});

describe('entitlements followed live', () => {
  it('reports grants and revocations of the thing on the page only', () => {
    const socket = new FakeSocket();
    const seen: boolean[] = [];
    const stop = followEntitlement(socket.socket, 'course', [COURSE_ID], (granted) => seen.push(granted));
    const event = (patch: Partial<EntitlementEvent>): EntitlementEvent => ({ resourceType: 'course', resourceId: COURSE_ID, orderId: ORDER_ID, ...patch });
    socket.push('entitlement:granted', event({}));
    socket.push('entitlement:granted', event({ resourceType: 'ebook' }));
    socket.push('entitlement:granted', event({ resourceId: ORDER_ID }));
    socket.push('entitlement:revoked', event({}));
    expect(seen).toEqual([true, false]);
    stop();
    socket.push('entitlement:granted', event({}));
    expect(seen).toEqual([true, false]);
  });
});

describe('amounts', () => {
  it('formats minor units by the currency’s own digits and reads typed amounts back', () => {
    expect(money(1250, 'EUR')).toMatch(/12[.,]50/);
    expect(money(1200, 'JPY')).toMatch(/1,?200/);
    expect(money(1200, 'JPY')).not.toMatch(/12[.,]00/);
    expect(toMinor('12.5', 'EUR')).toBe(1250);
    expect(toMinor('12,50', 'EUR')).toBe(1250);
    expect(toMinor('7', 'EUR')).toBe(700);
    expect(toMinor('1200', 'JPY')).toBe(1200);
    expect(toMinor('12.505', 'EUR')).toBeNull();
    expect(toMinor('1.5', 'JPY')).toBeNull();
    expect(toMinor('-3', 'EUR')).toBeNull();
    expect(toMinor('abc', 'EUR')).toBeNull();
  });
});
