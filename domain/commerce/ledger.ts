import { sql } from 'kysely';
import type { Db } from '../../orm/db.ts';

/*
 * The money trail: an append-only double-entry ledger (ledger_entries; a trigger refuses updates and deletes). Each
 * posting is a set of entries that sums to zero — debits positive, credits negative — over four accounts:
 *
 *   provider_clearing  money held for us by the payment provider (debited by a payment, credited by a refund)
 *   tax_payable        tax collected on the buyer's behalf, owed to the tax authority
 *   platform_revenue   the platform fee (PLATFORM_FEE_PERCENT of the price net of tax)
 *   creator_payable    what the platform owes the seller
 *
 * A refund or a dispute reverses part of a payment in proportion: its tax and fee parts are computed from the
 * cumulative amount reversed so far, so the parts of several partial refunds add up exactly to what one full refund
 * would reverse, and a full reversal leaves every account of the order at zero.
 */

export type LedgerKind = 'payment' | 'refund' | 'dispute' | 'dispute_won';

/** The order fields a posting needs. */
export interface LedgerOrder {
  id: string;
  seller_id: string;
  currency: string;
  total_minor: number;
  tax_minor: number;
  platform_fee_minor: number;
}

export interface Split {
  tax: number;
  fee: number;
  creator: number;
}

/** How a payment of the whole order splits. */
export function paymentSplit(order: Pick<LedgerOrder, 'total_minor' | 'tax_minor' | 'platform_fee_minor'>): Split {
  return { tax: order.tax_minor, fee: order.platform_fee_minor, creator: order.total_minor - order.tax_minor - order.platform_fee_minor };
}

/**
 * The parts of reversing `amount` when `reversedBefore` was already reversed: the tax and fee shares of the cumulative
 * amount, less the shares already reversed (see cumulativeSplit), so parts of several refunds add up to the whole.
 */
export function reversalSplit(order: Pick<LedgerOrder, 'total_minor' | 'tax_minor' | 'platform_fee_minor'>, reversedBefore: number, amount: number): Split {
  if (order.total_minor === 0) return { tax: 0, fee: 0, creator: 0 };
  const after = cumulativeSplit(order, reversedBefore + amount);
  const before = cumulativeSplit(order, reversedBefore);
  return { tax: after.tax - before.tax, fee: after.fee - before.fee, creator: after.creator - before.creator };
}

/**
 * How `upTo` of the total splits: tax and fee rounded down, the creator the rest — but never more than the creator's
 * whole share (two rounded-down parts can leave the rest a cent above it, e.g. 5 of a 6-cent order with 1 tax and 1
 * fee); that cent goes to tax, else to the fee, which still have it to give. So no account ever crosses zero.
 */
function cumulativeSplit(order: Pick<LedgerOrder, 'total_minor' | 'tax_minor' | 'platform_fee_minor'>, upTo: number): Split {
  const share = (part: number) => Math.floor((part * upTo) / order.total_minor);
  let tax = share(order.tax_minor);
  let fee = share(order.platform_fee_minor);
  const creatorShare = order.total_minor - order.tax_minor - order.platform_fee_minor;
  const excess = upTo - tax - fee - creatorShare;
  if (excess > 0) {
    const toTax = Math.min(excess, order.tax_minor - tax);
    tax += toTax;
    fee += excess - toTax;
  }
  return { tax, fee, creator: upTo - tax - fee };
}

/** Platform fee on a price net of tax, in whole minor units (rounded half up). */
export function platformFee(netOfTaxMinor: number, feePercent: number): number {
  return Math.round((netOfTaxMinor * feePercent) / 100);
}

async function post(q: Db, order: LedgerOrder, kind: LedgerKind, clearing: number, split: Split, at: Date): Promise<void> {
  // clearing is the signed movement of provider_clearing; the other accounts move the opposite way, split.
  const sign = clearing >= 0 ? -1 : 1;
  const postingId = crypto.randomUUID();
  const entries = [
    { account: 'provider_clearing' as const, amount: clearing },
    { account: 'tax_payable' as const, amount: sign * split.tax },
    { account: 'platform_revenue' as const, amount: sign * split.fee },
    { account: 'creator_payable' as const, amount: sign * split.creator },
  ].filter((e) => e.amount !== 0);
  if (entries.length === 0) return;
  await q
    .insertInto('ledger_entries')
    .values(
      entries.map((e) => ({
        posting_id: postingId,
        order_id: order.id,
        seller_id: order.seller_id,
        kind,
        account: e.account,
        amount_minor: e.amount,
        currency: order.currency,
        created_at: at,
      })),
    )
    .execute();
}

/** How much of the order's payment has been reversed (refunds and disputes, less disputes won), from the ledger itself. */
export async function reversedSoFar(q: Db, orderId: string): Promise<number> {
  const row = await q
    .selectFrom('ledger_entries')
    .select(sql<number>`coalesce(-sum(amount_minor), 0)::bigint`.as('reversed'))
    .where('order_id', '=', orderId)
    .where('account', '=', 'provider_clearing')
    .where('kind', '!=', 'payment')
    .executeTakeFirstOrThrow();
  return Number(row.reversed);
}

/** The order was paid in full. Call once per order, in the transaction that marks it paid. */
export async function postPayment(q: Db, order: LedgerOrder, at: Date): Promise<void> {
  await post(q, order, 'payment', order.total_minor, paymentSplit(order), at);
}

/** Part (or the rest) of the payment went back to the buyer by a refund or a dispute. */
export async function postReversal(q: Db, order: LedgerOrder, kind: 'refund' | 'dispute', amount: number, at: Date): Promise<void> {
  const before = await reversedSoFar(q, order.id);
  await post(q, order, kind, -amount, reversalSplit(order, before, amount), at);
}

/** A dispute was won: the disputed amount comes back, split as it went. */
export async function postDisputeWon(q: Db, order: LedgerOrder, amount: number, at: Date): Promise<void> {
  const before = await reversedSoFar(q, order.id);
  const undone = reversalSplit(order, before - amount, amount);
  await post(q, order, 'dispute_won', amount, undone, at);
}

/** Sum of every entry of an order per currency: zero when the books balance (the invariant the tests check). */
export async function orderBalance(q: Db, orderId: string): Promise<number> {
  const row = await q
    .selectFrom('ledger_entries')
    .select(sql<number>`coalesce(sum(amount_minor), 0)::bigint`.as('sum'))
    .where('order_id', '=', orderId)
    .executeTakeFirstOrThrow();
  return Number(row.sum);
}
