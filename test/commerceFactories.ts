import { vi } from 'vitest';
import type { CheckoutResponse, CouponDto, OrderDto } from '../contracts/commerce.ts';
import type { CourseDto } from '../contracts/courses.ts';
import { publishedCourse } from './courseFactories.ts';
import { call, ok, type ApiResponse, type TestUser } from './factories.ts';
import type { RunningNode } from './nodes.ts';

/*
 * Commerce for tests, through the real API: something priced to sell, a checkout, the test payment page's buttons,
 * and coupons. Payments settle through the job queue, so `payTestOrder` waits until the order has left `pending`.
 */

/** A published course with a price, taught by a fresh platform instructor (its seller). */
export async function pricedCourse(
  node: RunningNode,
  { priceMinor = 4900, currency = 'EUR' }: { priceMinor?: number; currency?: string } = {},
): Promise<{ course: CourseDto; instructor: TestUser }> {
  const { course, author } = await publishedCourse(node, { course: { priceMinor, currency } });
  return { course, instructor: author };
}

/** POST /checkout as `user`; the raw response, so tests can check refusals too. */
export function checkoutAs(node: RunningNode, user: TestUser, body: Record<string, unknown>): Promise<ApiResponse<CheckoutResponse>> {
  return call<CheckoutResponse>(node, 'POST', '/checkout', user, body);
}

/** Clicks Pay or Decline on the test payment page for `orderId`, then waits until the order is settled either way. */
export async function payTestOrder(node: RunningNode, user: TestUser, orderId: string, outcome: 'pay' | 'decline'): Promise<OrderDto> {
  const res = await call(node, 'POST', `/test-payments/${orderId}`, user, { outcome });
  if (res.status < 200 || res.status >= 300) throw new Error(`test payment failed: ${res.status} ${JSON.stringify(res.body)}`);
  return vi.waitFor(
    async () => {
      const order = await ok(call<OrderDto>(node, 'GET', `/orders/${orderId}`, user));
      if (order.status === 'pending') throw new Error(`order ${orderId} is still pending`);
      return order;
    },
    { timeout: 10_000, interval: 50 },
  );
}

/** POST /coupons as `seller`; fails the test unless created. */
export function createCouponAs(node: RunningNode, seller: TestUser, input: Record<string, unknown>): Promise<CouponDto> {
  return ok(call<CouponDto>(node, 'POST', '/coupons', seller, input), 201);
}
