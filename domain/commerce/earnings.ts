import { sql } from 'kysely';
import type { EarningsDto } from '../../contracts/commerce.ts';
import { db, type Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { loadOrderDto } from './orders.ts';

/*
 * A seller's earnings, read from the ledger (never from order rows): what buyers paid, the tax and the platform's fee
 * taken from it, what went back by refunds and disputes, and what is left for the seller — which is exactly what the
 * ledger owes them (the negated sum of their creator_payable entries). Tax and fee are net of what refunds reversed,
 * so gross − tax − fee − refunds − disputes = net holds in every currency.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_DAYS = 400;
const RECENT_ORDERS = 20;

export interface EarningsRange {
  from?: string | undefined;
  to?: string | undefined;
}

/** The period asked for: the last 30 days to now unless told; at most 400 days. */
export function earningsPeriod(deps: Deps, range: EarningsRange): { from: Date; to: Date } {
  const to = range.to ? new Date(range.to) : deps.clock.now();
  const from = range.from ? new Date(range.from) : new Date(to.getTime() - 30 * DAY_MS);
  if (from >= to) throw new AppError('invalid_input', 'The period must end after it starts.', { details: { fields: { to: 'Must be after from.' } } });
  if (to.getTime() - from.getTime() > MAX_DAYS * DAY_MS) {
    throw new AppError('invalid_input', `Ask for at most ${MAX_DAYS} days at a time.`, { details: { fields: { from: `At most ${MAX_DAYS} days before to.` } } });
  }
  return { from, to };
}

const minus = (account: string) => sql<string>`coalesce(-sum(amount_minor) filter (where account = ${account}), 0)::text`;

/** GET /me/earnings — per currency totals, net per UTC day, and my latest sales. */
export async function earnings(deps: Deps, actor: Actor, range: EarningsRange): Promise<EarningsDto> {
  const { from, to } = earningsPeriod(deps, range);
  const q = db(deps.orm.em.fork());
  const inPeriod = (qb: Db) =>
    qb.selectFrom('ledger_entries').where('seller_id', '=', actor.userId).where('created_at', '>=', from).where('created_at', '<', to);

  const totals = await inPeriod(q)
    .select([
      'currency',
      sql<string>`count(distinct order_id) filter (where kind = 'payment')::text`.as('orders'),
      sql<string>`coalesce(sum(amount_minor) filter (where kind = 'payment' and account = 'provider_clearing'), 0)::text`.as('gross'),
      minus('tax_payable').as('tax'),
      minus('platform_revenue').as('fee'),
      sql<string>`coalesce(-sum(amount_minor) filter (where kind = 'refund' and account = 'provider_clearing'), 0)::text`.as('refunds'),
      sql<string>`coalesce(-sum(amount_minor) filter (where kind in ('dispute', 'dispute_won') and account = 'provider_clearing'), 0)::text`.as('disputes'),
      minus('creator_payable').as('net'),
    ])
    .groupBy('currency')
    .orderBy('currency')
    .execute();

  const day = sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD')`;
  const daily = await inPeriod(q)
    .select([
      day.as('day'),
      'currency',
      minus('creator_payable').as('net'),
      sql<string>`count(distinct order_id) filter (where kind = 'payment')::text`.as('orders'),
    ])
    .groupBy([day, 'currency'])
    .orderBy('day')
    .orderBy('currency')
    .execute();

  const recent = await q
    .selectFrom('orders')
    .select('id')
    .where('seller_id', '=', actor.userId)
    .where('status', 'in', ['paid', 'partially_refunded', 'refunded', 'disputed'])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(RECENT_ORDERS)
    .execute();
  const recentOrders = [];
  for (const { id } of recent) recentOrders.push(await loadOrderDto(q, id));

  return {
    from: from.toISOString(),
    to: to.toISOString(),
    totals: totals.map((t) => ({
      currency: t.currency,
      orders: Number(t.orders),
      grossMinor: Number(t.gross),
      taxMinor: Number(t.tax),
      platformFeeMinor: Number(t.fee),
      refundsMinor: Number(t.refunds),
      disputesMinor: Number(t.disputes),
      netMinor: Number(t.net),
    })),
    daily: daily.map((d) => ({ day: d.day, currency: d.currency, netMinor: Number(d.net), orders: Number(d.orders) })),
    recentOrders,
  };
}

const CSV_HEADER = ['date', 'order_id', 'title', 'kind', 'currency', 'gross_minor', 'tax_minor', 'fee_minor', 'net_minor'];

/**
 * One CSV field: quoted when it holds a separator, a quote or a line break (quotes doubled), and a text that a
 * spreadsheet would run as a formula (=, +, -, @, tab, CR first) is defused with a leading apostrophe.
 */
export function csvField(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** GET /me/earnings?format=csv — one row per ledger posting of mine in the period, oldest first. */
export async function earningsCsv(deps: Deps, actor: Actor, range: EarningsRange): Promise<{ filename: string; body: string }> {
  const { from, to } = earningsPeriod(deps, range);
  const q = db(deps.orm.em.fork());
  const rows = await q
    .selectFrom('ledger_entries as l')
    .leftJoin('orders as o', 'o.id', 'l.order_id')
    .select([
      sql<Date>`min(l.created_at)`.as('at'),
      'l.order_id',
      sql<string | null>`min(o.title)`.as('title'),
      sql<string>`min(l.kind)`.as('kind'),
      sql<string>`min(l.currency)`.as('currency'),
      sql<string>`coalesce(sum(l.amount_minor) filter (where l.account = 'provider_clearing'), 0)::text`.as('gross'),
      sql<string>`coalesce(-sum(l.amount_minor) filter (where l.account = 'tax_payable'), 0)::text`.as('tax'),
      sql<string>`coalesce(-sum(l.amount_minor) filter (where l.account = 'platform_revenue'), 0)::text`.as('fee'),
      sql<string>`coalesce(-sum(l.amount_minor) filter (where l.account = 'creator_payable'), 0)::text`.as('net'),
    ])
    .where('l.seller_id', '=', actor.userId)
    .where('l.created_at', '>=', from)
    .where('l.created_at', '<', to)
    .groupBy(['l.posting_id', 'l.order_id'])
    .orderBy(sql`min(l.id)`)
    .execute();
  const lines = [CSV_HEADER.join(',')];
  for (const r of rows) {
    lines.push(
      [new Date(r.at).toISOString(), r.order_id, r.title ?? '', r.kind, r.currency, Number(r.gross), Number(r.tax), Number(r.fee), Number(r.net)]
        .map(csvField)
        .join(','),
    );
  }
  const date = (d: Date) => d.toISOString().slice(0, 10);
  return { filename: `earnings-${date(from)}-${date(to)}.csv`, body: `${lines.join('\r\n')}\r\n` };
}
