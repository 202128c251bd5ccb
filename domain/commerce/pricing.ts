import type { Db } from '../../orm/db.ts';
import { platformFee } from './ledger.ts';

/*
 * What an order costs, computed on the server only: the price of what is sold, less a coupon's discount, plus or
 * including the tax of the buyer's country, and the platform's fee on what remains net of tax. Pure functions over
 * integers in the currency's minor unit, so the arithmetic is tested apart from the database.
 */

export interface TaxRate {
  country: string;
  name: string;
  rateBps: number;
  /** Part of the price (VAT-style) or added to it (sales-tax style). */
  inclusive: boolean;
}

export interface DiscountCoupon {
  kind: 'percent' | 'amount';
  percentOff: number | null;
  amountOffMinor: number | null;
  /** An amount coupon's currency (it applies only to prices in that currency). */
  currency: string | null;
}

export interface PricedOrder {
  subtotalMinor: number;
  discountMinor: number;
  taxMinor: number;
  totalMinor: number;
  platformFeeMinor: number;
}

/** The tax in (inclusive) or on top of (exclusive) an amount; no rate, no tax. */
export function taxFor(amountAfterDiscount: number, rate: Pick<TaxRate, 'rateBps' | 'inclusive'> | null): number {
  if (!rate || rate.rateBps === 0 || amountAfterDiscount <= 0) return 0;
  if (rate.inclusive) return amountAfterDiscount - Math.round(amountAfterDiscount / (1 + rate.rateBps / 10_000));
  return Math.round((amountAfterDiscount * rate.rateBps) / 10_000);
}

/** Whether an amount coupon can apply to a price in `currency` (a percentage applies to any currency). */
export function couponFitsCurrency(coupon: Pick<DiscountCoupon, 'kind' | 'currency'>, currency: string): boolean {
  return coupon.kind === 'percent' || coupon.currency === currency;
}

/** The discount a coupon gives on `subtotal` in `currency`; never more than the subtotal, 0 for a foreign amount. */
export function discountFor(subtotal: number, coupon: DiscountCoupon | null, currency?: string): number {
  if (!coupon) return 0;
  if (coupon.kind === 'percent') return Math.floor((subtotal * (coupon.percentOff ?? 0)) / 100);
  if (currency !== undefined && coupon.currency !== currency) return 0;
  return Math.min(coupon.amountOffMinor ?? 0, subtotal);
}

/**
 * The whole price of an order. `discountMinor` may be given instead of a coupon (the discount a reserved coupon gave).
 * Satisfies the orders table's check: total = subtotal − discount + (inclusive ? 0 : tax).
 */
export function priceOrder(input: {
  subtotal: number;
  coupon?: DiscountCoupon | null;
  discountMinor?: number;
  currency?: string;
  taxRate: Pick<TaxRate, 'rateBps' | 'inclusive'> | null;
  feePercent: number;
}): PricedOrder {
  const discount = Math.min(input.discountMinor ?? discountFor(input.subtotal, input.coupon ?? null, input.currency), input.subtotal);
  const afterDiscount = input.subtotal - discount;
  const tax = taxFor(afterDiscount, input.taxRate);
  const total = afterDiscount + (input.taxRate && !input.taxRate.inclusive ? tax : 0);
  return {
    subtotalMinor: input.subtotal,
    discountMinor: discount,
    taxMinor: tax,
    totalMinor: total,
    platformFeeMinor: platformFee(total - tax, input.feePercent),
  };
}

/**
 * Shares a bundle's price over its items in proportion to their list prices (rounded down, the remainder on the last
 * item), so the lines sum exactly to the price. Items that all list at zero share it equally.
 */
export function splitBundle(amount: number, listPrices: readonly number[]): number[] {
  if (listPrices.length === 0) return [];
  const weights = listPrices.some((p) => p > 0) ? listPrices.map((p) => Math.max(p, 0)) : listPrices.map(() => 1);
  const sum = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => Math.floor((amount * w) / sum));
  const given = shares.slice(0, -1).reduce((a, b) => a + b, 0);
  shares[shares.length - 1] = amount - given;
  return shares;
}

/** The tax rate of the buyer's country (tax_rates); an unknown or missing country pays no tax. */
export async function taxRateFor(q: Db, country: string | null | undefined): Promise<TaxRate | null> {
  if (!country) return null;
  const row = await q.selectFrom('tax_rates').select(['country', 'name', 'rate_bps', 'inclusive']).where('country', '=', country.toUpperCase()).executeTakeFirst();
  return row ? { country: row.country, name: row.name, rateBps: row.rate_bps, inclusive: row.inclusive } : null;
}
