import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './auth.ts';
import { Community } from './communities.ts';

/**
 * Commerce: community tiers and bundles (the sellables that are not content), tax rates, coupons, orders with their
 * lines, coupon redemptions, provider customers, subscriptions, refunds, disputes, processed provider events and the
 * append-only double-entry ledger. Prices of courses, ebooks and classrooms stay on those tables.
 */

export const PRODUCT_TYPES = ['course', 'ebook', 'classroom', 'tier', 'bundle'] as const;
export const ORDER_STATUSES = ['pending', 'paid', 'failed', 'expired', 'refunded', 'partially_refunded', 'disputed'] as const;
export const LEDGER_ACCOUNTS = ['provider_clearing', 'tax_payable', 'platform_revenue', 'creator_payable'] as const;

export const CommunityTier = defineEntity({
  name: 'CommunityTier',
  tableName: 'community_tiers',
  indexes: [{ name: 'community_tiers_community_idx', properties: ['community', 'createdAt'] }],
  checks: [
    { name: 'community_tiers_price_minor_check', expression: 'price_minor > 0' },
    { name: 'community_tiers_interval_check', expression: `("interval")::text = ANY ((ARRAY['month'::character varying, 'year'::character varying])::text[])` },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    community: () => p.manyToOne(Community).deleteRule('cascade'),
    name: p.string().length(80),
    description: p.text().default(''),
    priceMinor: p.integer(),
    currency: p.string().length(3),
    interval: p.string().length(8).$type<'month' | 'year'>(),
    active: p.boolean().default(true),
    providerPriceId: p.string().length(255).nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ICommunityTier = InferEntity<typeof CommunityTier>;

export const Bundle = defineEntity({
  name: 'Bundle',
  tableName: 'bundles',
  indexes: [
    {
      name: 'bundles_seller_idx',
      properties: ['seller', 'createdAt'],
      columns: [{ name: 'seller_id' }, { name: 'created_at', sort: 'DESC' }],
    },
  ],
  checks: [{ name: 'bundles_price_minor_check', expression: 'price_minor > 0' }],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    seller: () => p.manyToOne(User).deleteRule('cascade'),
    title: p.string().length(200),
    description: p.text().default(''),
    priceMinor: p.integer(),
    currency: p.string().length(3),
    status: p.enum(['draft', 'published', 'archived']).default('draft').columnType('varchar(16)'),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IBundle = InferEntity<typeof Bundle>;

export const BundleItem = defineEntity({
  name: 'BundleItem',
  tableName: 'bundle_items',
  primaryKeys: ['bundle', 'itemType', 'itemId'],
  properties: {
    bundle: () => p.manyToOne(Bundle).primary().updateRule('no action').deleteRule('cascade'),
    itemType: p.enum(['course', 'ebook']).primary().columnType('varchar(16)'),
    itemId: p.uuid().primary(),
    position: p.integer().default(0),
  },
});
export type IBundleItem = InferEntity<typeof BundleItem>;

export const TaxRate = defineEntity({
  name: 'TaxRate',
  tableName: 'tax_rates',
  checks: [
    { name: 'tax_rates_country_check', expression: `(country)::text ~ '^[A-Z]{2}$'::text` },
    { name: 'tax_rates_rate_bps_check', expression: '(rate_bps >= 0) AND (rate_bps <= 10000)' },
  ],
  properties: {
    country: p.string().length(2).primary(),
    name: p.string().length(80),
    rateBps: p.integer(),
    inclusive: p.boolean(),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ITaxRate = InferEntity<typeof TaxRate>;

export const Coupon = defineEntity({
  name: 'Coupon',
  tableName: 'coupons',
  uniques: [{ name: 'coupons_seller_code_unique', properties: ['seller', 'code'] }],
  checks: [
    { name: 'coupons_code_check', expression: `(code)::text ~ '^[A-Z0-9_-]{3,40}$'::text` },
    { name: 'coupons_percent_off_check', expression: '(percent_off >= 1) AND (percent_off <= 100)' },
    { name: 'coupons_amount_off_minor_check', expression: 'amount_off_minor > 0' },
    { name: 'coupons_max_redemptions_check', expression: 'max_redemptions > 0' },
    { name: 'coupons_max_per_user_check', expression: 'max_per_user > 0' },
    { name: 'coupons_reserved_count_check', expression: 'reserved_count >= 0' },
    { name: 'coupons_redeemed_count_check', expression: 'redeemed_count >= 0' },
    // percent coupons carry a percentage, amount coupons an amount and its currency
    {
      name: 'coupons_check',
      expression: `(((kind)::text = 'percent'::text) AND (percent_off IS NOT NULL) AND (amount_off_minor IS NULL)) OR (((kind)::text = 'amount'::text) AND (amount_off_minor IS NOT NULL) AND (currency IS NOT NULL) AND (percent_off IS NULL))`,
    },
    // reserved by pending checkouts plus consumed by paid ones never exceed the limit
    { name: 'coupons_check1', expression: '(max_redemptions IS NULL) OR ((reserved_count + redeemed_count) <= max_redemptions)' },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    seller: () => p.manyToOne(User).deleteRule('cascade'),
    productId: p.uuid().nullable(),
    code: p.string().length(40),
    kind: p.enum(['percent', 'amount']).columnType('varchar(8)'),
    percentOff: p.integer().nullable(),
    amountOffMinor: p.integer().nullable(),
    currency: p.string().length(3).nullable(),
    startsAt: p.datetime().nullable(),
    endsAt: p.datetime().nullable(),
    maxRedemptions: p.integer().nullable(),
    maxPerUser: p.integer().nullable(),
    reservedCount: p.integer().default(0),
    redeemedCount: p.integer().default(0),
    active: p.boolean().default(true),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ICoupon = InferEntity<typeof Coupon>;

export const Order = defineEntity({
  name: 'Order',
  tableName: 'orders',
  uniques: [
    {
      name: 'orders_provider_payment_unique',
      where: 'provider_payment_id IS NOT NULL',
      properties: ['provider', 'providerPaymentId'],
    },
  ],
  indexes: [
    { name: 'orders_buyer_idx', expression: 'CREATE INDEX orders_buyer_idx ON public.orders USING btree (buyer_id, created_at DESC, id DESC)' },
    { name: 'orders_seller_idx', expression: 'CREATE INDEX orders_seller_idx ON public.orders USING btree (seller_id, created_at DESC, id DESC)' },
    { name: 'orders_pending_idx', where: `(status)::text = 'pending'::text`, properties: ['createdAt'] },
  ],
  checks: [
    { name: 'orders_subtotal_minor_check', expression: 'subtotal_minor >= 0' },
    { name: 'orders_discount_minor_check', expression: 'discount_minor >= 0' },
    { name: 'orders_tax_minor_check', expression: 'tax_minor >= 0' },
    { name: 'orders_total_minor_check', expression: 'total_minor >= 0' },
    { name: 'orders_platform_fee_minor_check', expression: 'platform_fee_minor >= 0' },
    { name: 'orders_check', expression: '(refunded_minor >= 0) AND (refunded_minor <= total_minor)' },
    // the total is the subtotal less the discount, plus tax unless the tax is included in the price
    {
      name: 'orders_check1',
      expression: 'total_minor = ((subtotal_minor - discount_minor) + CASE WHEN tax_inclusive THEN 0 ELSE tax_minor END)',
    },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    buyer: () => p.manyToOne(User).deleteRule('restrict'),
    seller: () => p.manyToOne(User).deleteRule('restrict'),
    productType: p.enum(PRODUCT_TYPES).columnType('varchar(16)'),
    productId: p.uuid(),
    title: p.string().length(200),
    status: p.enum(ORDER_STATUSES).default('pending').columnType('varchar(20)'),
    currency: p.string().length(3),
    subtotalMinor: p.integer(),
    discountMinor: p.integer().default(0),
    taxMinor: p.integer().default(0),
    totalMinor: p.integer(),
    platformFeeMinor: p.integer().default(0),
    refundedMinor: p.integer().default(0),
    taxCountry: p.string().length(2).nullable(),
    taxRateBps: p.integer().default(0),
    taxInclusive: p.boolean().default(false),
    coupon: () => p.manyToOne(Coupon).nullable().deleteRule('set null'),
    couponCode: p.string().length(40).nullable(),
    provider: p.enum(['stripe', 'test', 'none']).columnType('varchar(8)'),
    providerPaymentId: p.string().length(255).nullable(),
    subscription: () => p.manyToOne(Subscription).nullable().deleteRule('set null'),
    failureReason: p.text().nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    expiresAt: p.datetime(),
    paidAt: p.datetime().nullable(),
    closedAt: p.datetime().nullable(),
  },
});
export type IOrder = InferEntity<typeof Order>;

export const OrderLine = defineEntity({
  name: 'OrderLine',
  tableName: 'order_lines',
  indexes: [{ name: 'order_lines_order_idx', properties: ['order', 'position'] }],
  checks: [{ name: 'order_lines_amount_minor_check', expression: 'amount_minor >= 0' }],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    order: () => p.manyToOne(Order).deleteRule('cascade'),
    resourceType: p.enum(['course', 'ebook', 'classroom', 'tier']).columnType('varchar(16)'),
    resourceId: p.uuid(),
    title: p.string().length(200),
    amountMinor: p.integer(),
    position: p.integer().default(0),
  },
});
export type IOrderLine = InferEntity<typeof OrderLine>;

export const CouponRedemption = defineEntity({
  name: 'CouponRedemption',
  tableName: 'coupon_redemptions',
  indexes: [
    {
      name: 'coupon_redemptions_coupon_user_idx',
      where: `(status)::text <> 'released'::text`,
      properties: ['coupon', 'user'],
    },
  ],
  checks: [{ name: 'coupon_redemptions_discount_minor_check', expression: 'discount_minor >= 0' }],
  properties: {
    order: () => p.oneToOne(Order).owner().primary().updateRule('no action').deleteRule('cascade'),
    coupon: () => p.manyToOne(Coupon).deleteRule('cascade'),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    status: p.enum(['reserved', 'redeemed', 'released']).columnType('varchar(10)'),
    discountMinor: p.integer(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ICouponRedemption = InferEntity<typeof CouponRedemption>;

export const PaymentCustomer = defineEntity({
  name: 'PaymentCustomer',
  tableName: 'payment_customers',
  primaryKeys: ['user', 'provider'],
  properties: {
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    provider: p.string().length(8).primary(),
    customerId: p.string().length(255),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IPaymentCustomer = InferEntity<typeof PaymentCustomer>;

export const Subscription = defineEntity({
  name: 'Subscription',
  tableName: 'subscriptions',
  uniques: [
    {
      name: 'subscriptions_provider_unique',
      where: 'provider_subscription_id IS NOT NULL',
      properties: ['provider', 'providerSubscriptionId'],
    },
  ],
  indexes: [
    {
      name: 'subscriptions_user_idx',
      properties: ['user', 'createdAt'],
      columns: [{ name: 'user_id' }, { name: 'created_at', sort: 'DESC' }],
    },
    {
      name: 'subscriptions_period_idx',
      where: `(status)::text = ANY ((ARRAY['active'::character varying, 'past_due'::character varying, 'canceled'::character varying])::text[])`,
      properties: ['currentPeriodEnd'],
    },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    tier: () => p.manyToOne(CommunityTier).deleteRule('restrict'),
    community: () => p.manyToOne(Community).deleteRule('cascade'),
    firstOrder: () => p.manyToOne(Order).deleteRule('restrict'),
    provider: p.string().length(8),
    providerSubscriptionId: p.string().length(255).nullable(),
    status: p.enum(['incomplete', 'active', 'past_due', 'canceled', 'ended']).default('incomplete').columnType('varchar(16)'),
    currentPeriodEnd: p.datetime().nullable(),
    cancelAtPeriodEnd: p.boolean().default(false),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    endedAt: p.datetime().nullable(),
  },
});
export type ISubscription = InferEntity<typeof Subscription>;

export const Refund = defineEntity({
  name: 'Refund',
  tableName: 'refunds',
  uniques: [
    { name: 'refunds_provider_unique', where: 'provider_refund_id IS NOT NULL', properties: ['providerRefundId'] },
    { name: 'refunds_idempotency_unique', where: 'idempotency_key IS NOT NULL', properties: ['order', 'idempotencyKey'] },
  ],
  indexes: [{ name: 'refunds_order_idx', properties: ['order', 'createdAt'] }],
  checks: [{ name: 'refunds_amount_minor_check', expression: 'amount_minor > 0' }],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    order: () => p.manyToOne(Order).deleteRule('restrict'),
    amountMinor: p.integer(),
    reason: p.text(),
    status: p.enum(['pending', 'succeeded', 'failed']).default('pending').columnType('varchar(10)'),
    providerRefundId: p.string().length(255).nullable(),
    requestedBy: () => p.manyToOne(User).nullable(),
    idempotencyKey: p.string().length(100).nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    settledAt: p.datetime().nullable(),
  },
});
export type IRefund = InferEntity<typeof Refund>;

export const Dispute = defineEntity({
  name: 'Dispute',
  tableName: 'disputes',
  checks: [{ name: 'disputes_amount_minor_check', expression: 'amount_minor >= 0' }],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    order: () => p.manyToOne(Order).deleteRule('restrict'),
    providerDisputeId: p.string().length(255).unique('disputes_provider_unique'),
    amountMinor: p.integer(),
    status: p.enum(['open', 'won', 'lost']).columnType('varchar(10)'),
    reason: p.text().default(''),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    closedAt: p.datetime().nullable(),
  },
});
export type IDispute = InferEntity<typeof Dispute>;

/** A provider event processed once: written in the transaction of its effect. */
export const PaymentEvent = defineEntity({
  name: 'PaymentEvent',
  tableName: 'payment_events',
  indexes: [{ name: 'payment_events_order_idx', properties: ['orderId', 'processedAt'] }],
  properties: {
    id: p.string().length(255).primary(),
    provider: p.string().length(8),
    type: p.string().length(64),
    orderId: p.uuid().nullable(),
    outcome: p.string().length(32),
    processedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IPaymentEvent = InferEntity<typeof PaymentEvent>;

/** Double entry, append-only (a trigger from the migration refuses updates and deletes); each posting sums to zero. */
export const LedgerEntry = defineEntity({
  name: 'LedgerEntry',
  tableName: 'ledger_entries',
  triggers: [
    {
      name: 'ledger_entries_no_change',
      timing: 'before',
      events: ['update', 'delete'],
      forEach: 'row',
      expression:
        'create trigger ledger_entries_no_change before update or delete on ledger_entries for each row execute function ledger_entries_append_only()',
    },
  ],
  indexes: [
    { name: 'ledger_entries_order_idx', properties: ['orderId', 'id'] },
    { name: 'ledger_entries_seller_idx', properties: ['sellerId', 'createdAt'] },
  ],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    postingId: p.uuid(),
    orderId: p.uuid(),
    sellerId: p.uuid(),
    kind: p.enum(['payment', 'refund', 'dispute', 'dispute_won']).columnType('varchar(16)'),
    account: p.enum(LEDGER_ACCOUNTS).columnType('varchar(20)'),
    amountMinor: p.bigint('number'),
    currency: p.string().length(3),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ILedgerEntry = InferEntity<typeof LedgerEntry>;
