/*
 * What a bundle is worth next to its items: the sum of their own list prices and what a buyer saves. Shared by the
 * bundle page and the creator's form (which works it out live while items are picked).
 */

export interface PricedItem {
  priceMinor: number;
}

/** What the items cost bought one by one. */
export function separateTotal(items: readonly PricedItem[]): number {
  return items.reduce((sum, item) => sum + Math.max(0, item.priceMinor), 0);
}

/**
 * What buying the bundle saves over buying its items separately, in minor units and whole percent (rounded down, so
 * the page never promises more than it gives); null when the bundle costs as much as its items or more.
 */
export function bundleSaving(bundlePriceMinor: number, items: readonly PricedItem[]): { minor: number; percent: number } | null {
  const separately = separateTotal(items);
  const minor = separately - bundlePriceMinor;
  if (separately <= 0 || minor <= 0) return null;
  return { minor, percent: Math.floor((minor / separately) * 100) };
}

/** `course:<id>` — how a picked item travels in the create form (checkbox values) and keys its error message. */
export function itemKey(item: { type: 'course' | 'ebook'; id: string }): string {
  return `${item.type}:${item.id}`;
}

/** The item a `course:<id>` / `ebook:<id>` form value names, or null for anything else. */
export function parseItemKey(value: string): { type: 'course' | 'ebook'; id: string } | null {
  const match = /^(course|ebook):([0-9a-fA-F-]{36})$/.exec(value.trim());
  if (!match) return null;
  return { type: match[1] as 'course' | 'ebook', id: match[2]!.toLowerCase() };
}

/** Something I may put in a bundle, as the create form offers it. */
export interface BundleCandidate {
  key: string;
  type: 'course' | 'ebook';
  id: string;
  title: string;
  priceMinor: number;
  currency: string;
}
