import { describe, expect, it } from 'vitest';
import { discountFor, priceOrder, splitBundle, taxFor } from './pricing.ts';

const DE = { rateBps: 1900, inclusive: true };
const CA = { rateBps: 500, inclusive: false };

describe('pricing', () => {
  it('tax: inclusive rates are inside the price, exclusive ones on top, none without a rate', () => {
    expect(taxFor(4900, DE)).toBe(782); // 4900 − round(4900 / 1.19) = 4900 − 4118
    expect(taxFor(4900, CA)).toBe(245);
    expect(taxFor(4900, null)).toBe(0);
    expect(taxFor(0, DE)).toBe(0);
    expect(taxFor(1, CA)).toBe(0); // 0.05 rounds to 0
    expect(taxFor(10, CA)).toBe(1); // 0.5 rounds half up
  });

  it('discounts: a percentage rounds down; an amount is capped at the subtotal and needs the same currency', () => {
    const percent = (p: number) => ({ kind: 'percent' as const, percentOff: p, amountOffMinor: null, currency: null });
    const amount = (a: number, currency = 'EUR') => ({ kind: 'amount' as const, percentOff: null, amountOffMinor: a, currency });
    expect(discountFor(4900, percent(25))).toBe(1225);
    expect(discountFor(999, percent(33))).toBe(329); // 329.67 ↓
    expect(discountFor(4900, percent(100))).toBe(4900);
    expect(discountFor(4900, amount(1000), 'EUR')).toBe(1000);
    expect(discountFor(500, amount(1000), 'EUR')).toBe(500);
    expect(discountFor(4900, amount(1000), 'USD')).toBe(0);
    expect(discountFor(4900, null)).toBe(0);
  });

  it('an order satisfies the table check (total = subtotal − discount + exclusive tax) and the fee is on the net of tax', () => {
    const cases = [
      { subtotal: 4900, discountMinor: 0, taxRate: DE },
      { subtotal: 4900, discountMinor: 1225, taxRate: DE },
      { subtotal: 4900, discountMinor: 0, taxRate: CA },
      { subtotal: 4900, discountMinor: 1000, taxRate: CA },
      { subtotal: 4900, discountMinor: 4900, taxRate: CA },
      { subtotal: 12345, discountMinor: 0, taxRate: null },
    ];
    for (const c of cases) {
      const p = priceOrder({ ...c, feePercent: 10 });
      const exclusiveTax = c.taxRate && !c.taxRate.inclusive ? p.taxMinor : 0;
      expect(p.totalMinor).toBe(p.subtotalMinor - p.discountMinor + exclusiveTax);
      expect(p.platformFeeMinor).toBe(Math.round((p.totalMinor - p.taxMinor) / 10));
      expect(p.taxMinor).toBeGreaterThanOrEqual(0);
    }
    expect(priceOrder({ subtotal: 4900, taxRate: DE, feePercent: 10 })).toEqual({
      subtotalMinor: 4900,
      discountMinor: 0,
      taxMinor: 782,
      totalMinor: 4900,
      platformFeeMinor: 412, // 10 % of 4118
    });
    expect(priceOrder({ subtotal: 4900, taxRate: CA, feePercent: 10 })).toMatchObject({ taxMinor: 245, totalMinor: 5145, platformFeeMinor: 490 });
    expect(
      priceOrder({ subtotal: 4900, coupon: { kind: 'percent', percentOff: 100, amountOffMinor: null, currency: null }, taxRate: CA, feePercent: 10 }),
    ).toEqual({ subtotalMinor: 4900, discountMinor: 4900, taxMinor: 0, totalMinor: 0, platformFeeMinor: 0 });
  });

  it('a bundle price is shared by list price, the remainder on the last item, summing to the price', () => {
    expect(splitBundle(6000, [4900, 2900])).toEqual([3769, 2231]);
    expect(splitBundle(100, [1, 1, 1])).toEqual([33, 33, 34]);
    expect(splitBundle(100, [0, 0])).toEqual([50, 50]);
    expect(splitBundle(100, [0, 300])).toEqual([0, 100]);
    expect(splitBundle(100, [])).toEqual([]);
    for (const [amount, prices] of [
      [9999, [1234, 5678, 91011]],
      [1, [5, 5]],
      [7777, [1, 2, 3, 4, 5, 6, 7]],
    ] as const) {
      const shares = splitBundle(amount, prices);
      expect(shares.reduce((a, b) => a + b, 0)).toBe(amount);
      expect(shares.every((s) => s >= 0)).toBe(true);
    }
  });
});
