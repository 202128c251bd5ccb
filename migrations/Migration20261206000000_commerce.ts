import { Migration } from '@mikro-orm/migrations';

/*
 * Commerce: prices stay on what is sold (courses, ebooks, classrooms, community tiers, bundles); orders snapshot them
 * at checkout; payments, refunds and disputes arrive as provider events recorded once; an append-only double-entry
 * ledger keeps the money trail; entitlements (widened here to classroom seats and community tiers) open the doors.
 */
export class Migration20261206000000_commerce extends Migration {
  override name = 'Migration20261206000000_commerce';

  override up(): void {
    // ------------------------------------------------------------------ sellables
    this.addSql(`alter table classrooms add column currency varchar(3) null;`);
    this.addSql(`update classrooms set currency = 'USD' where price_minor > 0 and currency is null;`);
    this.addSql(`alter table classrooms add constraint classrooms_price_currency_check check ((price_minor = 0) or (currency is not null));`);

    // A community with an active tier is paid: joining takes an active entitlement to one of its tiers.
    this.addSql(`
      create table community_tiers (
        id uuid primary key,
        community_id uuid not null references communities (id) on delete cascade,
        name varchar(80) not null,
        description text not null default '',
        price_minor integer not null check (price_minor > 0),
        currency varchar(3) not null,
        "interval" varchar(8) not null check ("interval" in ('month', 'year')),
        active boolean not null default true,
        provider_price_id varchar(255) null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`create index community_tiers_community_idx on community_tiers (community_id, created_at);`);

    this.addSql(`
      create table bundles (
        id uuid primary key,
        seller_id uuid not null references users (id) on delete cascade,
        title varchar(200) not null,
        description text not null default '',
        price_minor integer not null check (price_minor > 0),
        currency varchar(3) not null,
        status varchar(16) not null default 'draft' check (status in ('draft', 'published', 'archived')),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`create index bundles_seller_idx on bundles (seller_id, created_at desc);`);
    this.addSql(`
      create table bundle_items (
        bundle_id uuid not null references bundles (id) on delete cascade,
        item_type varchar(16) not null check (item_type in ('course', 'ebook')),
        item_id uuid not null,
        position integer not null default 0,
        primary key (bundle_id, item_type, item_id)
      );`);

    // Rates by buyer country; inclusive rates are part of the price, exclusive ones are added to it.
    this.addSql(`
      create table tax_rates (
        country varchar(2) primary key check (country ~ '^[A-Z]{2}$'),
        name varchar(80) not null,
        rate_bps integer not null check (rate_bps between 0 and 10000),
        inclusive boolean not null,
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`
      insert into tax_rates (country, name, rate_bps, inclusive) values
        ('GB', 'VAT', 2000, true), ('DE', 'MwSt', 1900, true), ('FR', 'TVA', 2000, true), ('NL', 'btw', 2100, true),
        ('IE', 'VAT', 2300, true), ('ES', 'IVA', 2100, true), ('IT', 'IVA', 2200, true), ('AU', 'GST', 1000, true),
        ('NZ', 'GST', 1500, true), ('CA', 'GST', 500, false), ('IN', 'GST', 1800, true), ('JP', 'JCT', 1000, true);`);

    // ------------------------------------------------------------------ coupons
    this.addSql(`
      create table coupons (
        id uuid primary key,
        seller_id uuid not null references users (id) on delete cascade,
        product_id uuid null,
        code varchar(40) not null check (code ~ '^[A-Z0-9_-]{3,40}$'),
        kind varchar(8) not null check (kind in ('percent', 'amount')),
        percent_off integer null check (percent_off between 1 and 100),
        amount_off_minor integer null check (amount_off_minor > 0),
        currency varchar(3) null,
        starts_at timestamptz null,
        ends_at timestamptz null,
        max_redemptions integer null check (max_redemptions > 0),
        max_per_user integer null check (max_per_user > 0),
        -- Reserved by pending checkouts plus consumed by paid ones never exceed max_redemptions.
        reserved_count integer not null default 0 check (reserved_count >= 0),
        redeemed_count integer not null default 0 check (redeemed_count >= 0),
        active boolean not null default true,
        created_at timestamptz not null default now(),
        check ((kind = 'percent' and percent_off is not null and amount_off_minor is null)
            or (kind = 'amount' and amount_off_minor is not null and currency is not null and percent_off is null)),
        check (max_redemptions is null or reserved_count + redeemed_count <= max_redemptions)
      );`);
    this.addSql(`create unique index coupons_seller_code_unique on coupons (seller_id, code);`);

    // ------------------------------------------------------------------ orders
    this.addSql(`
      create table orders (
        id uuid primary key,
        buyer_id uuid not null references users (id) on delete restrict,
        seller_id uuid not null references users (id) on delete restrict,
        product_type varchar(16) not null check (product_type in ('course', 'ebook', 'classroom', 'tier', 'bundle')),
        product_id uuid not null,
        title varchar(200) not null,
        status varchar(20) not null default 'pending'
          check (status in ('pending', 'paid', 'failed', 'expired', 'refunded', 'partially_refunded', 'disputed')),
        currency varchar(3) not null,
        subtotal_minor integer not null check (subtotal_minor >= 0),
        discount_minor integer not null default 0 check (discount_minor >= 0),
        tax_minor integer not null default 0 check (tax_minor >= 0),
        total_minor integer not null check (total_minor >= 0),
        platform_fee_minor integer not null default 0 check (platform_fee_minor >= 0),
        refunded_minor integer not null default 0 check (refunded_minor >= 0 and refunded_minor <= total_minor),
        tax_country varchar(2) null,
        tax_rate_bps integer not null default 0,
        tax_inclusive boolean not null default false,
        coupon_id uuid null references coupons (id) on delete set null,
        coupon_code varchar(40) null,
        provider varchar(8) not null check (provider in ('stripe', 'test', 'none')),
        provider_payment_id varchar(255) null,
        subscription_id uuid null,
        failure_reason text null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        expires_at timestamptz not null,
        paid_at timestamptz null,
        closed_at timestamptz null,
        check (total_minor = subtotal_minor - discount_minor + (case when tax_inclusive then 0 else tax_minor end))
      );`);
    this.addSql(`create unique index orders_provider_payment_unique on orders (provider, provider_payment_id) where provider_payment_id is not null;`);
    this.addSql(`create index orders_buyer_idx on orders (buyer_id, created_at desc, id desc);`);
    this.addSql(`create index orders_seller_idx on orders (seller_id, created_at desc, id desc);`);
    this.addSql(`create index orders_pending_idx on orders (created_at) where status = 'pending';`);
    // What an order grants, priced at checkout; a bundle has one line per item, its price shared out by list price.
    this.addSql(`
      create table order_lines (
        id uuid primary key,
        order_id uuid not null references orders (id) on delete cascade,
        resource_type varchar(16) not null check (resource_type in ('course', 'ebook', 'classroom', 'tier')),
        resource_id uuid not null,
        title varchar(200) not null,
        amount_minor integer not null check (amount_minor >= 0),
        position integer not null default 0
      );`);
    this.addSql(`create index order_lines_order_idx on order_lines (order_id, position);`);

    this.addSql(`
      create table coupon_redemptions (
        order_id uuid primary key references orders (id) on delete cascade,
        coupon_id uuid not null references coupons (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        status varchar(10) not null check (status in ('reserved', 'redeemed', 'released')),
        discount_minor integer not null check (discount_minor >= 0),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`create index coupon_redemptions_coupon_user_idx on coupon_redemptions (coupon_id, user_id) where status <> 'released';`);

    // The provider's customer per user (Stripe Billing needs one for subscriptions).
    this.addSql(`
      create table payment_customers (
        user_id uuid not null references users (id) on delete cascade,
        provider varchar(8) not null,
        customer_id varchar(255) not null,
        created_at timestamptz not null default now(),
        primary key (user_id, provider)
      );`);

    this.addSql(`
      create table subscriptions (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        tier_id uuid not null references community_tiers (id) on delete restrict,
        community_id uuid not null references communities (id) on delete cascade,
        first_order_id uuid not null references orders (id) on delete restrict,
        provider varchar(8) not null,
        provider_subscription_id varchar(255) null,
        status varchar(16) not null default 'incomplete' check (status in ('incomplete', 'active', 'past_due', 'canceled', 'ended')),
        current_period_end timestamptz null,
        cancel_at_period_end boolean not null default false,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        ended_at timestamptz null
      );`);
    this.addSql(`create unique index subscriptions_provider_unique on subscriptions (provider, provider_subscription_id) where provider_subscription_id is not null;`);
    this.addSql(`create index subscriptions_user_idx on subscriptions (user_id, created_at desc);`);
    this.addSql(`create index subscriptions_period_idx on subscriptions (current_period_end) where status in ('active', 'past_due', 'canceled');`);
    this.addSql(`alter table orders add constraint orders_subscription_id_fkey foreign key (subscription_id) references subscriptions (id) on delete set null;`);

    this.addSql(`
      create table refunds (
        id uuid primary key,
        order_id uuid not null references orders (id) on delete restrict,
        amount_minor integer not null check (amount_minor > 0),
        reason text not null,
        status varchar(10) not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
        provider_refund_id varchar(255) null,
        requested_by_id uuid null references users (id) on delete set null,
        idempotency_key varchar(100) null,
        created_at timestamptz not null default now(),
        settled_at timestamptz null
      );`);
    this.addSql(`create index refunds_order_idx on refunds (order_id, created_at);`);
    this.addSql(`create unique index refunds_provider_unique on refunds (provider_refund_id) where provider_refund_id is not null;`);
    this.addSql(`create unique index refunds_idempotency_unique on refunds (order_id, idempotency_key) where idempotency_key is not null;`);

    this.addSql(`
      create table disputes (
        id uuid primary key,
        order_id uuid not null references orders (id) on delete restrict,
        provider_dispute_id varchar(255) not null,
        amount_minor integer not null check (amount_minor >= 0),
        status varchar(10) not null check (status in ('open', 'won', 'lost')),
        reason text not null default '',
        created_at timestamptz not null default now(),
        closed_at timestamptz null,
        constraint disputes_provider_unique unique (provider_dispute_id)
      );`);

    // Provider events, each recorded in the transaction of its effect: a duplicate delivery finds its id here and does
    // nothing; a delivery whose processing failed left no row, so the provider's retry is processed again.
    this.addSql(`
      create table payment_events (
        id varchar(255) primary key,
        provider varchar(8) not null,
        type varchar(64) not null,
        order_id uuid null,
        outcome varchar(32) not null,
        processed_at timestamptz not null default now()
      );`);
    this.addSql(`create index payment_events_order_idx on payment_events (order_id, processed_at);`);

    // ------------------------------------------------------------------ ledger
    // Double entry, append-only: every posting's entries sum to zero (debits positive, credits negative). Accounts:
    // provider_clearing (money at the payment provider), tax_payable, platform_revenue, creator_payable (per seller).
    this.addSql(`
      create table ledger_entries (
        id bigserial primary key,
        posting_id uuid not null,
        order_id uuid not null,
        seller_id uuid not null,
        kind varchar(16) not null check (kind in ('payment', 'refund', 'dispute', 'dispute_won')),
        account varchar(20) not null check (account in ('provider_clearing', 'tax_payable', 'platform_revenue', 'creator_payable')),
        amount_minor bigint not null,
        currency varchar(3) not null,
        created_at timestamptz not null default now()
      );`);
    this.addSql(`create index ledger_entries_order_idx on ledger_entries (order_id, id);`);
    this.addSql(`create index ledger_entries_seller_idx on ledger_entries (seller_id, created_at);`);
    this.addSql(`
      create function ledger_entries_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'ledger_entries is append-only';
      end $$;`);
    this.addSql(`
      create trigger ledger_entries_no_change before update or delete on ledger_entries
      for each row execute function ledger_entries_append_only();`);

    // ------------------------------------------------------------------ seats and entitlements
    // A paid seat is held for the buyer while they pay; an expired hold no longer counts against the capacity.
    this.addSql(`alter table classroom_registrations drop constraint classroom_registrations_status_check;`);
    this.addSql(`alter table classroom_registrations add constraint classroom_registrations_status_check check (status in ('registered', 'waitlisted', 'cancelled', 'held'));`);
    this.addSql(`alter table classroom_registrations add column hold_expires_at timestamptz null;`);
    this.addSql(`alter table classroom_registrations add column order_id uuid null references orders (id) on delete set null;`);

    this.addSql(`alter table entitlements drop constraint entitlements_resource_type_check;`);
    this.addSql(`alter table entitlements add constraint entitlements_resource_type_check check (resource_type in ('course', 'ebook', 'classroom', 'tier'));`);
    this.addSql(`alter table entitlements add column order_id uuid null references orders (id) on delete set null;`);
    this.addSql(`alter table entitlements add column expires_at timestamptz null;`);
    this.addSql(`create index entitlements_order_idx on entitlements (order_id) where order_id is not null;`);
  }

  override down(): void {
    this.addSql(`drop index if exists entitlements_order_idx;`);
    this.addSql(`alter table entitlements drop column expires_at, drop column order_id;`);
    this.addSql(`alter table entitlements drop constraint entitlements_resource_type_check;`);
    this.addSql(`alter table entitlements add constraint entitlements_resource_type_check check (resource_type in ('course', 'ebook'));`);
    this.addSql(`alter table classroom_registrations drop column order_id, drop column hold_expires_at;`);
    this.addSql(`alter table classroom_registrations drop constraint classroom_registrations_status_check;`);
    this.addSql(`alter table classroom_registrations add constraint classroom_registrations_status_check check (status in ('registered', 'waitlisted', 'cancelled'));`);
    this.addSql(`drop trigger if exists ledger_entries_no_change on ledger_entries;`);
    this.addSql(`drop table if exists ledger_entries;`);
    this.addSql(`drop function if exists ledger_entries_append_only();`);
    this.addSql(`alter table orders drop constraint if exists orders_subscription_id_fkey;`);
    this.addSql(`drop table if exists payment_events, disputes, refunds, subscriptions, payment_customers, coupon_redemptions, order_lines, orders, coupons, tax_rates, bundle_items, bundles, community_tiers cascade;`);
    this.addSql(`alter table classrooms drop constraint classrooms_price_currency_check;`);
    this.addSql(`alter table classrooms drop column currency;`);
  }
}
