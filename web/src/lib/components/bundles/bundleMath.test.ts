import { describe, expect, it } from 'vitest';
import { bundleSaving, itemKey, parseItemKey, separateTotal } from './bundleMath.ts';

describe('bundle pricing', () => {
  it('adds the items’ list prices and says what the bundle saves', () => {
    const items = [{ priceMinor: 2000 }, { priceMinor: 1500 }];
    expect(separateTotal(items)).toBe(3500);
    expect(bundleSaving(2800, items)).toEqual({ minor: 700, percent: 20 });
  });

  it('promises no saving when the bundle costs as much as its items or more, and rounds the percentage down', () => {
    expect(bundleSaving(3500, [{ priceMinor: 2000 }, { priceMinor: 1500 }])).toBeNull();
    expect(bundleSaving(4000, [{ priceMinor: 2000 }, { priceMinor: 1500 }])).toBeNull();
    expect(bundleSaving(100, [])).toBeNull();
    expect(bundleSaving(2, [{ priceMinor: 3 }])).toEqual({ minor: 1, percent: 33 });
  });

  it('round-trips an item through its form value and refuses anything else', () => {
    const id = '0b6f3c0e-9a1d-4c52-8f7e-1d2c3b4a5f60';
    expect(parseItemKey(itemKey({ type: 'ebook', id }))).toEqual({ type: 'ebook', id });
    expect(parseItemKey(`course:${id.toUpperCase()}`)).toEqual({ type: 'course', id });
    expect(parseItemKey(`classroom:${id}`)).toBeNull();
    expect(parseItemKey('course:not-an-id')).toBeNull();
  });
});
