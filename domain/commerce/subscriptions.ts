import type { Selectable } from 'kysely';
import type { SubscriptionDto } from '../../contracts/commerce.ts';
import { db, type DB, type Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { AfterCommit } from './afterCommit.ts';
import { markOrderPaid } from './fulfilment.ts';
import { platformFee, postPayment } from './ledger.ts';
import { isSettled, lockOrder, type OrderRow } from './orderRows.ts';
import { announceOrder } from './orders.ts';
import type { PaymentEvent } from './provider.ts';
import { periodEnd } from './testProvider.ts';
import { tierGrantHandler } from './tiers.ts';

/*
 * Community tier subscriptions. The checkout's order is the first invoice: the provider's subscription is created
 * when the order commits (startSubscription) and paying its first invoice pays the order, which opens the door
 * (tiers.ts). Each later invoice is a renewal: a new paid order of the same tier, posted to the ledger, and the door
 * stays open to the end of the new period. A failed renewal leaves the member in until the period ends (past_due);
 * the subscription's end (cancelled at period end, or ended by the provider) closes the door on every node.
 */

type SubscriptionRow = Selectable<DB['subscriptions']>;
type SubscriptionEvent = Extract<PaymentEvent, { type: 'invoice.paid' | 'invoice.payment_failed' | 'subscription.updated' | 'subscription.deleted' }>;
type Effect = { outcome: string; orderId: string | null; after: AfterCommit[] };

/**
 * Starts the provider's subscription for a tier order that has just committed: the buyer's provider customer
 * (created on first use), the subscription, and our row linking it to the order (status `incomplete` until the first
 * invoice is paid). Stores the first invoice's payment on the order, so its payment events find it.
 */
export async function startSubscription(deps: Deps, order: OrderRow, tierId: string): Promise<{ paymentId: string | null; clientSecret: string | null }> {
  const provider = deps.commerce.provider;
  if (!provider) throw new AppError('unavailable', 'Payments are not configured on this server.');
  const q = db(deps.orm.em.fork());
  const tier = await q.selectFrom('community_tiers').selectAll().where('id', '=', tierId).executeTakeFirst();
  if (!tier) throw new AppError('not_found', 'No such tier.');
  let customer = await q
    .selectFrom('payment_customers')
    .select('customer_id')
    .where('user_id', '=', order.buyer_id)
    .where('provider', '=', provider.name)
    .executeTakeFirst();
  if (!customer) {
    const user = await q.selectFrom('users').select(['email', 'display_name']).where('id', '=', order.buyer_id).executeTakeFirstOrThrow();
    const customerId = await provider.createCustomer({ userId: order.buyer_id, email: user.email, displayName: user.display_name });
    await q
      .insertInto('payment_customers')
      .values({ user_id: order.buyer_id, provider: provider.name, customer_id: customerId })
      .onConflict((oc) => oc.columns(['user_id', 'provider']).doNothing())
      .execute();
    // A concurrent checkout may have stored its own customer first: use the stored one.
    customer = await q
      .selectFrom('payment_customers')
      .select('customer_id')
      .where('user_id', '=', order.buyer_id)
      .where('provider', '=', provider.name)
      .executeTakeFirstOrThrow();
  }
  const created = await provider.createSubscription({
    orderId: order.id,
    buyerId: order.buyer_id,
    customerId: customer.customer_id,
    tier: {
      id: tier.id,
      name: tier.name,
      priceMinor: tier.price_minor,
      currency: tier.currency,
      interval: tier.interval,
      providerPriceId: tier.provider_price_id,
    },
  });
  const now = deps.clock.now();
  await deps.orm.em.fork().transactional(async (tx) => {
    const t = db(tx);
    if (created.providerPriceId && created.providerPriceId !== tier.provider_price_id) {
      await t.updateTable('community_tiers').set({ provider_price_id: created.providerPriceId }).where('id', '=', tier.id).execute();
    }
    const subscriptionId = crypto.randomUUID();
    await t
      .insertInto('subscriptions')
      .values({
        id: subscriptionId,
        user_id: order.buyer_id,
        tier_id: tier.id,
        community_id: tier.community_id,
        first_order_id: order.id,
        provider: provider.name,
        provider_subscription_id: created.subscriptionId,
        status: 'incomplete',
        current_period_end: created.currentPeriodEnd,
        cancel_at_period_end: false,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await t
      .updateTable('orders')
      .set({ subscription_id: subscriptionId, provider_payment_id: created.paymentId, updated_at: now })
      .where('id', '=', order.id)
      .execute();
  });
  return { paymentId: created.paymentId, clientSecret: created.clientSecret };
}

async function lockSubscription(q: Db, provider: string, providerSubscriptionId: string): Promise<SubscriptionRow | undefined> {
  return q
    .selectFrom('subscriptions')
    .selectAll()
    .where('provider', '=', provider)
    .where('provider_subscription_id', '=', providerSubscriptionId)
    .forUpdate()
    .executeTakeFirst();
}

const dateOrNull = (iso: string | null) => (iso ? new Date(iso) : null);

/** A provider invoice or subscription event (inside processPaymentEvent's transaction). */
export async function applySubscriptionEvent(deps: Deps, q: Db, event: SubscriptionEvent, at: Date): Promise<Effect> {
  const subscription = await lockSubscription(q, event.provider, event.subscriptionId);
  if (!subscription) {
    deps.logger.warn({ eventId: event.id, subscriptionId: event.subscriptionId }, 'subscriptions: an event for a subscription we do not know');
    return { outcome: 'unknown_subscription', orderId: null, after: [] };
  }
  switch (event.type) {
    case 'invoice.paid':
      return invoicePaid(deps, q, subscription, event, at);
    case 'invoice.payment_failed': {
      if (subscription.status === 'active') {
        await q.updateTable('subscriptions').set({ status: 'past_due', updated_at: at }).where('id', '=', subscription.id).execute();
        return { outcome: 'past_due', orderId: subscription.first_order_id, after: [] };
      }
      return { outcome: 'ignored', orderId: subscription.first_order_id, after: [] };
    }
    case 'subscription.updated': {
      if (subscription.status === 'ended') return { outcome: 'ignored_ended', orderId: subscription.first_order_id, after: [] };
      if (event.status === 'ended') return endSubscription(deps, q, subscription, event, at);
      await q
        .updateTable('subscriptions')
        .set({
          // The first invoice's payment activates it (tiers.ts); the provider's word alone does not open the door.
          status: event.status === 'active' && subscription.status === 'incomplete' ? subscription.status : event.status,
          current_period_end: dateOrNull(event.currentPeriodEnd) ?? subscription.current_period_end,
          cancel_at_period_end: event.cancelAtPeriodEnd,
          updated_at: at,
        })
        .where('id', '=', subscription.id)
        .execute();
      return { outcome: 'updated', orderId: subscription.first_order_id, after: [] };
    }
    case 'subscription.deleted':
      if (subscription.status === 'ended') return { outcome: 'ignored_ended', orderId: subscription.first_order_id, after: [] };
      return endSubscription(deps, q, subscription, event, at);
  }
}

/** The subscription is over: the door closes (the membership goes as a kick takes it, on every node). */
async function endSubscription(
  deps: Deps,
  q: Db,
  subscription: SubscriptionRow,
  event: Extract<SubscriptionEvent, { type: 'subscription.updated' | 'subscription.deleted' }>,
  at: Date,
): Promise<Effect> {
  await q
    .updateTable('subscriptions')
    .set({
      status: 'ended',
      ended_at: at,
      cancel_at_period_end: event.cancelAtPeriodEnd || subscription.cancel_at_period_end,
      current_period_end: dateOrNull(event.currentPeriodEnd) ?? subscription.current_period_end,
      updated_at: at,
    })
    .where('id', '=', subscription.id)
    .execute();
  const first = await q.selectFrom('orders').selectAll().where('id', '=', subscription.first_order_id).executeTakeFirstOrThrow();
  const after = await tierGrantHandler.revoke(deps, q, { userId: subscription.user_id, resourceId: subscription.tier_id, order: first, at, expiresAt: null });
  return { outcome: 'ended', orderId: first.id, after };
}

async function invoicePaid(deps: Deps, q: Db, subscription: SubscriptionRow, event: Extract<SubscriptionEvent, { type: 'invoice.paid' | 'invoice.payment_failed' }>, at: Date): Promise<Effect> {
  const first = await lockOrder(q, subscription.first_order_id);
  if (!first) throw new Error(`subscription ${subscription.id} has no first order`);
  const newPeriodEnd = dateOrNull(event.periodEnd);
  const firstInvoice = event.billingReason === 'subscription_create' || (event.billingReason !== 'subscription_cycle' && !isSettled(first.status));
  if (firstInvoice) {
    if (event.currency.toUpperCase() !== first.currency.toUpperCase() || event.amountMinor !== first.total_minor) {
      deps.logger.warn({ eventId: event.id, orderId: first.id }, 'subscriptions: the first invoice does not match its order; not fulfilled');
      return { outcome: 'mismatch', orderId: first.id, after: [] };
    }
    if (newPeriodEnd) await q.updateTable('subscriptions').set({ current_period_end: newPeriodEnd, updated_at: at }).where('id', '=', subscription.id).execute();
    if (isSettled(first.status)) return { outcome: 'already_paid', orderId: first.id, after: [] };
    return { outcome: 'paid', orderId: first.id, after: await markOrderPaid(deps, q, first, at) };
  }

  // A renewal: once per invoice, a paid order of its own.
  const paymentId = event.paymentId ?? event.invoiceId;
  const seen = await q
    .selectFrom('orders')
    .select('id')
    .where('provider', '=', first.provider)
    .where('provider_payment_id', '=', paymentId)
    .executeTakeFirst();
  if (seen) return { outcome: 'duplicate_invoice', orderId: seen.id, after: [] };
  if (event.currency.toUpperCase() !== first.currency.toUpperCase()) {
    deps.logger.warn({ eventId: event.id, subscriptionId: subscription.id }, 'subscriptions: a renewal in another currency; not recorded');
    return { outcome: 'mismatch', orderId: first.id, after: [] };
  }
  const tier = await q.selectFrom('community_tiers').selectAll().where('id', '=', subscription.tier_id).executeTakeFirstOrThrow();
  const total = event.amountMinor;
  // Tax as the first order charged it, in proportion to what this invoice charged.
  const tax = first.total_minor > 0 ? Math.round((first.tax_minor * total) / first.total_minor) : 0;
  const subtotal = first.tax_inclusive ? total : total - tax;
  const orderId = crypto.randomUUID();
  const renewal = await q
    .insertInto('orders')
    .values({
      id: orderId,
      buyer_id: first.buyer_id,
      seller_id: first.seller_id,
      product_type: 'tier',
      product_id: first.product_id,
      title: first.title,
      status: 'paid',
      currency: first.currency,
      subtotal_minor: subtotal,
      discount_minor: 0,
      tax_minor: tax,
      total_minor: total,
      platform_fee_minor: platformFee(total - tax, deps.commerce.platformFeePercent),
      refunded_minor: 0,
      tax_country: first.tax_country,
      tax_rate_bps: first.tax_rate_bps,
      tax_inclusive: first.tax_inclusive,
      provider: first.provider,
      provider_payment_id: paymentId,
      subscription_id: subscription.id,
      created_at: at,
      updated_at: at,
      expires_at: at,
      paid_at: at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await q
    .insertInto('order_lines')
    .values({ id: crypto.randomUUID(), order_id: orderId, resource_type: 'tier', resource_id: tier.id, title: tier.name, amount_minor: subtotal, position: 0 })
    .execute();
  await postPayment(q, renewal, at);
  const until = newPeriodEnd ?? periodEnd(subscription.current_period_end ?? at, tier.interval);
  await q
    .updateTable('subscriptions')
    .set({ status: 'active', current_period_end: until, updated_at: at })
    .where('id', '=', subscription.id)
    .execute();
  const after = await tierGrantHandler.grant(deps, q, { userId: first.buyer_id, resourceId: tier.id, order: renewal, at, expiresAt: until });
  return { outcome: 'renewed', orderId, after: [...after, await announceOrder(deps, q, orderId)] };
}

function presentSubscription(
  row: SubscriptionRow & {
    tier: Selectable<DB['community_tiers']>;
    community: { id: string; name: string; slug: string };
  },
): SubscriptionDto {
  const t = row.tier;
  return {
    id: row.id,
    status: row.status,
    currentPeriodEnd: row.current_period_end?.toISOString() ?? null,
    cancelAtPeriodEnd: row.cancel_at_period_end,
    createdAt: row.created_at.toISOString(),
    endedAt: row.ended_at?.toISOString() ?? null,
    tier: {
      id: t.id,
      communityId: t.community_id,
      name: t.name,
      description: t.description,
      priceMinor: t.price_minor,
      currency: t.currency,
      interval: t.interval,
      active: t.active,
    },
    community: row.community,
  };
}

async function loadSubscriptions(q: Db, userId: string, subscriptionId?: string): Promise<SubscriptionDto[]> {
  const rows = await q
    .selectFrom('subscriptions as s')
    .innerJoin('community_tiers as t', 't.id', 's.tier_id')
    .innerJoin('communities as c', 'c.id', 's.community_id')
    .selectAll('s')
    .select([
      't.id as t_id',
      't.community_id as t_community_id',
      't.name as t_name',
      't.description as t_description',
      't.price_minor as t_price_minor',
      't.currency as t_currency',
      't.interval as t_interval',
      't.active as t_active',
      't.provider_price_id as t_provider_price_id',
      't.created_at as t_created_at',
      't.updated_at as t_updated_at',
      'c.name as c_name',
      'c.slug as c_slug',
    ])
    .where('s.user_id', '=', userId)
    .$if(subscriptionId !== undefined, (qb) => qb.where('s.id', '=', subscriptionId!))
    // Started ones first: an `incomplete` subscription is a checkout nobody paid.
    .orderBy('s.created_at', 'desc')
    .orderBy('s.id', 'desc')
    .limit(200)
    .execute();
  return rows.map((r) =>
    presentSubscription({
      ...r,
      tier: {
        id: r.t_id,
        community_id: r.t_community_id,
        name: r.t_name,
        description: r.t_description,
        price_minor: r.t_price_minor,
        currency: r.t_currency,
        interval: r.t_interval,
        active: r.t_active,
        provider_price_id: r.t_provider_price_id,
        created_at: r.t_created_at,
        updated_at: r.t_updated_at,
      },
      community: { id: r.community_id, name: r.c_name, slug: r.c_slug },
    }),
  );
}

/** GET /me/subscriptions — newest first; those never paid (`incomplete`) are left out. */
export async function listMySubscriptions(deps: Deps, actor: Actor): Promise<{ data: SubscriptionDto[] }> {
  const all = await loadSubscriptions(db(deps.orm.em.fork()), actor.userId);
  return { data: all.filter((s) => s.status !== 'incomplete') };
}

/**
 * POST /subscriptions/:id/cancel — ends it at the end of the paid period (the member keeps what they paid for).
 * Cancelling twice changes nothing; someone else's subscription is `not_found`.
 */
export async function cancelMySubscription(deps: Deps, actor: Actor, subscriptionId: string): Promise<SubscriptionDto> {
  const q = db(deps.orm.em.fork());
  const subscription = await q.selectFrom('subscriptions').selectAll().where('id', '=', subscriptionId).executeTakeFirst();
  if (!subscription || subscription.user_id !== actor.userId) throw new AppError('not_found', 'No such subscription.');
  if (subscription.status === 'ended') throw new AppError('conflict', 'This subscription has already ended.');
  if (subscription.status === 'incomplete') throw new AppError('conflict', 'This subscription was never paid: there is nothing to cancel.');
  if (!subscription.cancel_at_period_end) {
    const provider = deps.commerce.provider;
    if (!provider || provider.name !== subscription.provider) throw new AppError('unavailable', 'The payment provider of this subscription is not configured.');
    if (subscription.provider_subscription_id) await provider.cancelSubscription(subscription.provider_subscription_id, { atPeriodEnd: true });
    await q
      .updateTable('subscriptions')
      .set({ cancel_at_period_end: true, updated_at: deps.clock.now() })
      .where('id', '=', subscriptionId)
      .execute();
  }
  const [dto] = await loadSubscriptions(q, actor.userId, subscriptionId);
  return dto!;
}
