import { z } from 'zod';

/*
 * Commerce wire shapes: products and prices, checkout and orders, payments, coupons, refunds, earnings, community
 * tiers and bundles, and the live order/entitlement events. Amounts are integers in the currency's minor unit
 * (cents); currencies are ISO 4217 codes in capitals. A client never sends an amount to pay: the server prices.
 */

export const PRODUCT_TYPES = ['course', 'ebook', 'classroom', 'tier', 'bundle'] as const;
export type ProductType = (typeof PRODUCT_TYPES)[number];
/** What an order line grants (a bundle grants its items). */
export const GRANT_TYPES = ['course', 'ebook', 'classroom', 'tier'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
export const ORDER_STATUSES = ['pending', 'paid', 'failed', 'expired', 'refunded', 'partially_refunded', 'disputed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const TIER_INTERVALS = ['month', 'year'] as const;
export type TierInterval = (typeof TIER_INTERVALS)[number];

export const Currency = z.string().regex(/^[A-Z]{3}$/, 'An ISO 4217 code in capitals, e.g. EUR.');
export const Country = z
  .string()
  .trim()
  .transform((v) => v.toUpperCase())
  .pipe(z.string().regex(/^[A-Z]{2}$/, 'A two-letter country code (ISO 3166-1), e.g. DE.'));
export const CouponCode = z
  .string()
  .trim()
  .transform((v) => v.toUpperCase())
  .pipe(z.string().regex(/^[A-Z0-9_-]{3,40}$/, 'A coupon code is 3–40 letters, digits, - or _.'));
const priceMinor = z.number().int().min(1).max(100_000_000);
const iso = z.iso.datetime({ offset: true });

// ------------------------------------------------------------------ products

/** Anything sellable, as a buyer sees it before checkout. `id` is the course, ebook, classroom, tier or bundle id. */
export const ProductDto = z
  .object({
    id: z.uuid(),
    type: z.enum(PRODUCT_TYPES),
    title: z.string(),
    priceMinor: z.number().int(),
    currency: z.string(),
    seller: z.object({ id: z.uuid(), displayName: z.string() }),
    /** Tiers renew every interval. */
    interval: z.enum(TIER_INTERVALS).nullable(),
    /** What buying it grants (a bundle: each item). */
    grants: z.array(z.object({ type: z.enum(GRANT_TYPES), id: z.uuid(), title: z.string() })),
    /** Whether the caller already holds everything it grants. */
    owned: z.boolean(),
  })
  .describe('ProductDto');
export type ProductDto = z.infer<typeof ProductDto>;

// ------------------------------------------------------------------ checkout and orders

export const CheckoutInput = z
  .strictObject({
    productId: z.uuid(),
    couponCode: CouponCode.optional(),
    /** The buyer's country for tax; without it no tax applies. */
    country: Country.optional(),
  })
  .describe('CheckoutInput');
export type CheckoutInput = z.infer<typeof CheckoutInput>;

export const OrderLineDto = z.object({
  resourceType: z.enum(GRANT_TYPES),
  resourceId: z.uuid(),
  title: z.string(),
  amountMinor: z.number().int(),
});
export type OrderLineDto = z.infer<typeof OrderLineDto>;

export const OrderDto = z
  .object({
    id: z.uuid(),
    status: z.enum(ORDER_STATUSES),
    productType: z.enum(PRODUCT_TYPES),
    productId: z.uuid(),
    title: z.string(),
    lines: z.array(OrderLineDto),
    subtotalMinor: z.number().int(),
    discountMinor: z.number().int(),
    taxMinor: z.number().int(),
    totalMinor: z.number().int(),
    refundedMinor: z.number().int(),
    currency: z.string(),
    couponCode: z.string().nullable(),
    tax: z.object({ country: z.string(), rateBps: z.number().int(), inclusive: z.boolean(), name: z.string() }).nullable(),
    buyer: z.object({ id: z.uuid(), displayName: z.string() }),
    seller: z.object({ id: z.uuid(), displayName: z.string() }),
    provider: z.enum(['stripe', 'test', 'none']),
    createdAt: iso,
    expiresAt: iso,
    paidAt: iso.nullable(),
    failureReason: z.string().nullable(),
  })
  .describe('OrderDto');
export type OrderDto = z.infer<typeof OrderDto>;

/** How the buyer pays: Stripe's Payment Element, the test payment page, or nothing (a total of zero). */
export const PaymentDto = z
  .discriminatedUnion('provider', [
    z.object({ provider: z.literal('stripe'), clientSecret: z.string(), publishableKey: z.string() }),
    z.object({ provider: z.literal('test'), paymentUrl: z.string() }),
    z.object({ provider: z.literal('none') }),
  ])
  .describe('PaymentDto');
export type PaymentDto = z.infer<typeof PaymentDto>;

export const CheckoutResponse = z.object({ order: OrderDto, payment: PaymentDto }).describe('CheckoutResponse');
export type CheckoutResponse = z.infer<typeof CheckoutResponse>;

/** A price before checkout: what the buyer would pay with this coupon and country (checked live as they type). */
export const QuoteResponse = z
  .object({
    subtotalMinor: z.number().int(),
    discountMinor: z.number().int(),
    taxMinor: z.number().int(),
    totalMinor: z.number().int(),
    currency: z.string(),
    tax: z.object({ country: z.string(), rateBps: z.number().int(), inclusive: z.boolean(), name: z.string() }).nullable(),
    /** null when no code was given; otherwise whether it applies and, if not, why. */
    coupon: z.object({ code: z.string(), valid: z.boolean(), message: z.string().nullable() }).nullable(),
  })
  .describe('QuoteResponse');
export type QuoteResponse = z.infer<typeof QuoteResponse>;

export const OrderList = z.object({ data: z.array(OrderDto), nextCursor: z.string().nullable() }).describe('OrderList');
export type OrderList = z.infer<typeof OrderList>;

export const OrderListQuery = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

// ------------------------------------------------------------------ refunds

export const RefundInput = z
  .strictObject({
    /** Part of the refundable balance; without it, all of it. */
    amountMinor: z.number().int().min(1).max(100_000_000).optional(),
    reason: z.string().trim().min(1, 'Say why.').max(500),
  })
  .describe('RefundInput');
export type RefundInput = z.infer<typeof RefundInput>;

export const RefundDto = z
  .object({
    id: z.uuid(),
    orderId: z.uuid(),
    amountMinor: z.number().int(),
    currency: z.string(),
    reason: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    createdAt: iso,
  })
  .describe('RefundDto');
export type RefundDto = z.infer<typeof RefundDto>;

export const RefundResponse = z.object({ refund: RefundDto, order: OrderDto }).describe('RefundResponse');
export type RefundResponse = z.infer<typeof RefundResponse>;

// ------------------------------------------------------------------ coupons

export const CreateCouponInput = z
  .strictObject({
    code: CouponCode,
    /** One of my products; without it the coupon applies to everything I sell. */
    productId: z.uuid().optional(),
    percentOff: z.number().int().min(1).max(100).optional(),
    amountOffMinor: priceMinor.optional(),
    currency: Currency.optional(),
    startsAt: iso.optional(),
    endsAt: iso.optional(),
    maxRedemptions: z.number().int().min(1).max(1_000_000).optional(),
    maxPerUser: z.number().int().min(1).max(1000).optional(),
  })
  .refine((v) => (v.percentOff === undefined) !== (v.amountOffMinor === undefined), {
    message: 'Give either a percentage or an amount off.',
    path: ['percentOff'],
  })
  .refine((v) => v.amountOffMinor === undefined || v.currency !== undefined, { message: 'An amount off needs a currency.', path: ['currency'] })
  .refine((v) => !v.startsAt || !v.endsAt || v.startsAt < v.endsAt, { message: 'The coupon must end after it starts.', path: ['endsAt'] })
  .describe('CreateCouponInput');
export type CreateCouponInput = z.infer<typeof CreateCouponInput>;

export const UpdateCouponInput = z.strictObject({ active: z.boolean() }).describe('UpdateCouponInput');

export const CouponDto = z
  .object({
    id: z.uuid(),
    code: z.string(),
    productId: z.uuid().nullable(),
    kind: z.enum(['percent', 'amount']),
    percentOff: z.number().int().nullable(),
    amountOffMinor: z.number().int().nullable(),
    currency: z.string().nullable(),
    startsAt: iso.nullable(),
    endsAt: iso.nullable(),
    maxRedemptions: z.number().int().nullable(),
    maxPerUser: z.number().int().nullable(),
    reservedCount: z.number().int(),
    redeemedCount: z.number().int(),
    active: z.boolean(),
    createdAt: iso,
  })
  .describe('CouponDto');
export type CouponDto = z.infer<typeof CouponDto>;
export const CouponList = z.object({ data: z.array(CouponDto) }).describe('CouponList');

// ------------------------------------------------------------------ earnings

export const EarningsQuery = z.strictObject({
  from: iso.optional(),
  to: iso.optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

export const EarningsDto = z
  .object({
    from: iso,
    to: iso,
    /** One row per currency: what buyers paid, and where it went. */
    totals: z.array(
      z.object({
        currency: z.string(),
        orders: z.number().int(),
        grossMinor: z.number().int(),
        taxMinor: z.number().int(),
        platformFeeMinor: z.number().int(),
        refundsMinor: z.number().int(),
        disputesMinor: z.number().int(),
        /** What I earned: gross less tax, fee, refunds and disputes. */
        netMinor: z.number().int(),
      }),
    ),
    /** Net earnings per day and currency (UTC days), for the chart. */
    daily: z.array(z.object({ day: z.string(), currency: z.string(), netMinor: z.number().int(), orders: z.number().int() })),
    /** My latest orders as the seller. */
    recentOrders: z.array(OrderDto),
  })
  .describe('EarningsDto');
export type EarningsDto = z.infer<typeof EarningsDto>;

// ------------------------------------------------------------------ community tiers

export const CreateTierInput = z
  .strictObject({
    name: z.string().trim().min(1, 'Name the tier.').max(80),
    description: z.string().trim().max(2000).default(''),
    priceMinor,
    currency: Currency,
    interval: z.enum(TIER_INTERVALS),
  })
  .describe('CreateTierInput');
export type CreateTierInput = z.infer<typeof CreateTierInput>;

export const UpdateTierInput = z
  .strictObject({
    name: z.string().trim().min(1).max(80).optional(),
    description: z.string().trim().max(2000).optional(),
    active: z.boolean().optional(),
  })
  .describe('UpdateTierInput');

export const TierDto = z
  .object({
    id: z.uuid(),
    communityId: z.uuid(),
    name: z.string(),
    description: z.string(),
    priceMinor: z.number().int(),
    currency: z.string(),
    interval: z.enum(TIER_INTERVALS),
    active: z.boolean(),
    /** The caller's subscription to it, if any. */
    subscription: z
      .object({ id: z.uuid(), status: z.enum(['incomplete', 'active', 'past_due', 'canceled', 'ended']), currentPeriodEnd: iso.nullable(), cancelAtPeriodEnd: z.boolean() })
      .nullable(),
  })
  .describe('TierDto');
export type TierDto = z.infer<typeof TierDto>;
export const TierList = z.object({ data: z.array(TierDto), paid: z.boolean() }).describe('TierList');

/** One of my subscriptions, with its tier and community (GET /me/subscriptions). */
export const SubscriptionDto = z
  .object({
    id: z.uuid(),
    status: z.enum(['incomplete', 'active', 'past_due', 'canceled', 'ended']),
    currentPeriodEnd: iso.nullable(),
    cancelAtPeriodEnd: z.boolean(),
    createdAt: iso,
    endedAt: iso.nullable(),
    tier: TierDto.omit({ subscription: true }),
    community: z.object({ id: z.uuid(), name: z.string(), slug: z.string() }),
  })
  .describe('SubscriptionDto');
export type SubscriptionDto = z.infer<typeof SubscriptionDto>;
export const SubscriptionList = z.object({ data: z.array(SubscriptionDto) }).describe('SubscriptionList');

// ------------------------------------------------------------------ bundles

export const CreateBundleInput = z
  .strictObject({
    title: z.string().trim().min(1, 'Give it a title.').max(200),
    description: z.string().trim().max(5000).default(''),
    priceMinor,
    currency: Currency,
    items: z
      .array(z.strictObject({ type: z.enum(['course', 'ebook']), id: z.uuid() }))
      .min(2, 'A bundle holds at least two items.')
      .max(50),
    publish: z.boolean().default(true),
  })
  .describe('CreateBundleInput');
export type CreateBundleInput = z.infer<typeof CreateBundleInput>;

export const BundleDto = z
  .object({
    id: z.uuid(),
    title: z.string(),
    description: z.string(),
    priceMinor: z.number().int(),
    currency: z.string(),
    status: z.enum(['draft', 'published', 'archived']),
    items: z.array(z.object({ type: z.enum(['course', 'ebook']), id: z.uuid(), title: z.string(), priceMinor: z.number().int() })),
  })
  .describe('BundleDto');
export type BundleDto = z.infer<typeof BundleDto>;
export const BundleList = z.object({ data: z.array(BundleDto) }).describe('BundleList');
export type BundleList = z.infer<typeof BundleList>;

/** Publish a draft or archived bundle (its items are checked again), or take it off sale. */
export const UpdateBundleInput = z.strictObject({ status: z.enum(['published', 'archived']) }).describe('UpdateBundleInput');
export type UpdateBundleInput = z.infer<typeof UpdateBundleInput>;

// ------------------------------------------------------------------ test payments

/** The test payment page's two buttons (the embedded default without Stripe). */
export const TestPaymentInput = z.strictObject({ outcome: z.enum(['pay', 'decline']) }).describe('TestPaymentInput');

// ------------------------------------------------------------------ live events

export interface EntitlementEvent {
  resourceType: GrantType;
  resourceId: string;
  orderId: string | null;
}

/** Sent to the buyer's own room (`rooms.user`): every open tab hears its orders change and doors open or close. */
export interface CommerceServerEvents {
  'order:updated': (order: OrderDto) => void;
  'entitlement:granted': (event: EntitlementEvent) => void;
  'entitlement:revoked': (event: EntitlementEvent) => void;
}
