import type {
  CheckoutInput,
  CheckoutResponse,
  CouponDto,
  CreateCouponInput,
  CreateTierInput,
  EarningsDto,
  OrderDto,
  OrderList,
  ProductDto,
  QuoteResponse,
  RefundInput,
  RefundResponse,
  TierDto,
} from '$contracts/commerce.ts';
import { apiDownload, apiRequest, type ApiCaller, type ApiResult } from './api.ts';

interface Session {
  locals: App.Locals;
}
type Caller = ApiCaller & Session;

/** Anything sellable (a course, ebook, class ticket, tier or bundle) as the buyer sees it, with whether they own it. */
export function fetchProduct(event: Caller, productId: string): Promise<ApiResult<ProductDto>> {
  return apiRequest<ProductDto>(event, `/api/v1/products/${productId}`, { token: event.locals.accessToken });
}

/** What the buyer would pay with this coupon and country; the server prices, the client only asks. */
export function fetchQuote(event: Caller, input: CheckoutInput): Promise<ApiResult<QuoteResponse>> {
  return apiRequest<QuoteResponse>(event, '/api/v1/checkout/quote', { method: 'POST', body: input, token: event.locals.accessToken });
}

export function startCheckout(event: Caller, input: CheckoutInput): Promise<ApiResult<CheckoutResponse>> {
  return apiRequest<CheckoutResponse>(event, '/api/v1/checkout', { method: 'POST', body: input, token: event.locals.accessToken });
}

export function fetchOrder(event: Caller, orderId: string): Promise<ApiResult<OrderDto>> {
  return apiRequest<OrderDto>(event, `/api/v1/orders/${orderId}`, { token: event.locals.accessToken });
}

export function fetchMyOrders(event: Caller, cursor: string | null): Promise<ApiResult<OrderList>> {
  const query = new URLSearchParams({ limit: '20' });
  if (cursor) query.set('cursor', cursor.slice(0, 200));
  return apiRequest<OrderList>(event, `/api/v1/me/orders?${query}`, { token: event.locals.accessToken });
}

/** The test payment page's Pay or Decline: the order settles a moment later through the job queue. */
export function submitTestPayment(event: Caller, orderId: string, outcome: 'pay' | 'decline'): Promise<ApiResult<unknown>> {
  return apiRequest<unknown>(event, `/api/v1/test-payments/${orderId}`, { method: 'POST', body: { outcome }, token: event.locals.accessToken });
}

/** A refund, sent with the Idempotency-Key the form carried: a double submit (or a retry after a lost answer) refunds once. */
export function refundOrder(event: Caller, orderId: string, input: RefundInput, idempotencyKey: string): Promise<ApiResult<RefundResponse>> {
  return apiRequest<RefundResponse>(event, `/api/v1/orders/${orderId}/refunds`, {
    method: 'POST',
    body: input,
    token: event.locals.accessToken,
    headers: { 'idempotency-key': idempotencyKey },
    timeoutMs: 20_000,
  });
}

function earningsQuery(from: string | null, to: string | null, format: 'json' | 'csv'): string {
  const query = new URLSearchParams({ format });
  if (from) query.set('from', from);
  if (to) query.set('to', to);
  return query.toString();
}

export function fetchEarnings(event: Caller, from: string | null, to: string | null): Promise<ApiResult<EarningsDto>> {
  return apiRequest<EarningsDto>(event, `/api/v1/me/earnings?${earningsQuery(from, to, 'json')}`, { token: event.locals.accessToken });
}

export function downloadEarningsCsv(event: Caller, from: string | null, to: string | null) {
  return apiDownload(event, `/api/v1/me/earnings?${earningsQuery(from, to, 'csv')}`, { token: event.locals.accessToken, accept: 'text/csv' });
}

export function fetchMyCoupons(event: Caller): Promise<ApiResult<{ data: CouponDto[] }>> {
  return apiRequest<{ data: CouponDto[] }>(event, '/api/v1/me/coupons', { token: event.locals.accessToken });
}

export function createCoupon(event: Caller, input: CreateCouponInput): Promise<ApiResult<CouponDto>> {
  return apiRequest<CouponDto>(event, '/api/v1/coupons', { method: 'POST', body: input, token: event.locals.accessToken });
}

export function setCouponActive(event: Caller, couponId: string, active: boolean): Promise<ApiResult<CouponDto>> {
  return apiRequest<CouponDto>(event, `/api/v1/coupons/${couponId}`, { method: 'PATCH', body: { active }, token: event.locals.accessToken });
}

export function fetchTiers(event: Caller, communityId: string): Promise<ApiResult<{ data: TierDto[]; paid: boolean }>> {
  return apiRequest<{ data: TierDto[]; paid: boolean }>(event, `/api/v1/communities/${communityId}/tiers`, { token: event.locals.accessToken });
}

export function createTier(event: Caller, communityId: string, input: CreateTierInput): Promise<ApiResult<TierDto>> {
  return apiRequest<TierDto>(event, `/api/v1/communities/${communityId}/tiers`, { method: 'POST', body: input, token: event.locals.accessToken });
}

export function setTierActive(event: Caller, tierId: string, active: boolean): Promise<ApiResult<TierDto>> {
  return apiRequest<TierDto>(event, `/api/v1/tiers/${tierId}`, { method: 'PATCH', body: { active }, token: event.locals.accessToken });
}

export function cancelSubscription(event: Caller, subscriptionId: string): Promise<ApiResult<unknown>> {
  return apiRequest<unknown>(event, `/api/v1/subscriptions/${subscriptionId}/cancel`, { method: 'POST', token: event.locals.accessToken });
}
