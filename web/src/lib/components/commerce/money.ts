import { resolve } from '$app/paths';
import type { OrderStatus, TierInterval } from '$contracts/commerce.ts';

const formats = new Map<string, Intl.NumberFormat>();

function formatFor(currency: string): Intl.NumberFormat | null {
  let format = formats.get(currency);
  if (!format) {
    try {
      format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    } catch {
      return null;
    }
    formats.set(currency, format);
  }
  return format;
}

/**
 * "€12.50" for 1250 EUR minor units, "¥1,200" for 1200 JPY: the minor unit follows the currency's own digits. Zero
 * is an amount here ("€0.00"), not "Free" — receipts and totals say what was paid.
 */
export function money(minor: number, currency: string): string {
  const format = formatFor(currency);
  if (!format) return `${(minor / 100).toFixed(2)} ${currency}`;
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}

/** "€12.50 / month" for a tier; the bare price otherwise. */
export function priceWithInterval(minor: number, currency: string, interval: TierInterval | null): string {
  const price = money(minor, currency);
  return interval ? `${price} / ${interval}` : price;
}

export const ORDER_STATUS_LABELS: Record<OrderStatus, string> = {
  pending: 'Awaiting payment',
  paid: 'Paid',
  failed: 'Payment failed',
  expired: 'Expired',
  refunded: 'Refunded',
  partially_refunded: 'Partly refunded',
  disputed: 'Disputed',
};

/** The status in a sentence, for the receipt: what the buyer can expect from it. */
export const ORDER_STATUS_SENTENCES: Record<OrderStatus, string> = {
  pending: 'Awaiting payment — nothing has been charged yet.',
  paid: 'Paid — you have access.',
  failed: 'Payment failed — nothing was charged.',
  expired: 'Expired — the checkout timed out before it was paid; nothing was charged.',
  refunded: 'Refunded in full — the access it gave has ended.',
  partially_refunded: 'Partly refunded — you keep your access.',
  disputed: 'Disputed — the payment is being reviewed with the card issuer.',
};

/** "19 %" for 1900 basis points. */
export function percentFromBps(bps: number): string {
  return `${Number.isInteger(bps / 100) ? bps / 100 : (bps / 100).toFixed(2)} %`;
}

/** The countries the checkout offers for tax (with "no tax country" first, the default). */
export const TAX_COUNTRIES: readonly { code: string; name: string }[] = [
  { code: '', name: 'Not given (no tax)' },
  { code: 'AU', name: 'Australia' },
  { code: 'CA', name: 'Canada' },
  { code: 'FR', name: 'France' },
  { code: 'DE', name: 'Germany' },
  { code: 'IN', name: 'India' },
  { code: 'IE', name: 'Ireland' },
  { code: 'IT', name: 'Italy' },
  { code: 'JP', name: 'Japan' },
  { code: 'NL', name: 'Netherlands' },
  { code: 'NZ', name: 'New Zealand' },
  { code: 'ES', name: 'Spain' },
  { code: 'GB', name: 'United Kingdom' },
  { code: 'US', name: 'United States' },
];

/** Where what an order line grants lives (a tier's community is not on the line: its receipt stands in). */
export function grantHref(type: 'course' | 'ebook' | 'classroom' | 'tier', id: string): string | null {
  switch (type) {
    case 'course':
      return resolve('/app/courses/[courseId]', { courseId: id });
    case 'ebook':
      return resolve('/app/ebooks/[ebookId]', { ebookId: id });
    case 'classroom':
      return resolve('/app/classes/[classroomId]', { classroomId: id });
    default:
      return null;
  }
}

/** The number of minor-unit digits of a currency (2 for EUR, 0 for JPY). */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** "12.5" or "12,50" typed in a form → 1250 minor units; null when it is not an amount. */
export function toMinor(text: string, currency: string): number | null {
  const cleaned = text.trim().replace(/\s/g, '').replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(cleaned)) return null;
  const digits = minorDigits(currency);
  const [whole = '0', fraction = ''] = cleaned.split('.');
  if (fraction.length > digits) return null;
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
}

/** "Germany" for DE when the checkout offers it; the code otherwise. */
export function countryName(code: string): string {
  return TAX_COUNTRIES.find((c) => c.code === code.toUpperCase())?.name ?? code;
}

interface TaxShape {
  name: string;
  rateBps: number;
  country: string;
  inclusive: boolean;
}

/**
 * The tax row of a quote or receipt, worded so nobody adds it up twice: "MwSt 19 % (Germany), incl." with
 * "incl. €2.32" when the price already contains it, "GST 5 % (Canada), added" with "+€1.45" when it comes on top.
 */
export function taxRow(tax: TaxShape, taxMinor: number, currency: string): { label: string; amount: string } {
  const what = `${tax.name} ${percentFromBps(tax.rateBps)} (${countryName(tax.country)})`;
  return tax.inclusive
    ? { label: `${what}, incl. in the price`, amount: `incl. ${money(taxMinor, currency)}` }
    : { label: `${what}, added`, amount: `+${money(taxMinor, currency)}` };
}
