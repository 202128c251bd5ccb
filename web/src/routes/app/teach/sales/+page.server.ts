import { fail } from '@sveltejs/kit';
import { CreateCouponInput, RefundInput } from '$contracts/commerce.ts';
import { startsAtFromLocal } from '$lib/classes.ts';
import { toMinor } from '$lib/components/commerce/money.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, formString, generalMessage } from '$lib/forms.ts';
import { createCoupon, fetchEarnings, fetchMyCoupons, refundOrder, setCouponActive } from '$lib/server/commerce.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import { fetchTeaching } from '$lib/server/teach.ts';
import type { Actions, PageServerLoad } from './$types';

const DAY_MS = 24 * 3600 * 1000;
const COUPON_FIELDS = ['code', 'productId', 'percentOff', 'amountOffMinor', 'currency', 'startsAt', 'endsAt', 'maxRedemptions', 'maxPerUser'];

function dayParam(value: string | null): Date | null {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

export const load: PageServerLoad = async (event) => {
  event.depends('app:sales');
  // A window of whole UTC days, the last 30 by default.
  const toDay = dayParam(event.url.searchParams.get('to')) ?? new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
  const fromDay = dayParam(event.url.searchParams.get('from')) ?? new Date(toDay.getTime() - 29 * DAY_MS);
  const from = fromDay.toISOString();
  const to = new Date(toDay.getTime() + DAY_MS).toISOString();
  const [earnings, coupons, teaching] = await Promise.all([fetchEarnings(event, from, to), fetchMyCoupons(event), fetchTeaching(event)]);
  const products = teaching.ok
    ? [
        ...teaching.data.courses.filter((c) => c.priceMinor > 0).map((c) => ({ id: c.id, title: `Course: ${c.title}` })),
        ...teaching.data.ebooks.filter((e) => e.priceMinor > 0).map((e) => ({ id: e.id, title: `Ebook: ${e.title}` })),
      ]
    : [];
  return {
    earnings: dataOrError(earnings),
    coupons: coupons.ok ? coupons.data.data : [],
    couponsError: coupons.ok ? null : generalMessage(coupons.error),
    products,
    window: { from: fromDay.toISOString().slice(0, 10), to: toDay.toISOString().slice(0, 10), fromIso: from, toIso: to },
  };
};

function optionalInt(text: string): number | undefined | null {
  if (!text.trim()) return undefined;
  const n = Number(text);
  return Number.isInteger(n) ? n : null;
}

export const actions: Actions = {
  refund: async (event) => {
    const form = await event.request.formData();
    const orderId = uuidParam(formString(form, 'orderId'));
    const currency = formString(form, 'currency') || 'EUR';
    const amountText = formString(form, 'amount');
    const reason = formString(form, 'reason');
    const key = formString(form, 'idempotencyKey') || crypto.randomUUID();
    const fail400 = (fieldErrors: Record<string, string>) => fail(400, { refund: { orderId, values: { amount: amountText, reason }, fieldErrors, message: CHECK_FIELDS_MESSAGE } });
    let amountMinor: number | undefined;
    if (amountText.trim()) {
      const minor = toMinor(amountText, currency);
      if (minor === null || minor < 1) return fail400({ amount: 'Enter an amount such as 12.50, or leave it empty to refund everything left.' });
      amountMinor = minor;
    }
    const parsed = RefundInput.safeParse({ reason, ...(amountMinor !== undefined ? { amountMinor } : {}) });
    if (!parsed.success) return fail400(fieldErrorsFromIssues(parsed.error.issues));
    const result = await refundOrder(event, orderId, parsed.data, key);
    if (!result.ok) {
      const failure = failureFromApi(result.error, { amount: amountText, reason }, ['amountMinor', 'reason']);
      const { amountMinor: amountError, ...rest } = failure.fieldErrors;
      return fail(result.status, { refund: { orderId, ...failure, fieldErrors: { ...rest, ...(amountError ? { amount: amountError } : {}) } } });
    }
    return { refunded: { orderId, amountMinor: result.data.refund.amountMinor, currency: result.data.refund.currency } };
  },

  createCoupon: async (event) => {
    const form = await event.request.formData();
    const field = (name: string) => formString(form, name).trim();
    const values = {
      code: field('code'),
      kind: field('kind'),
      value: field('value'),
      currency: field('currency'),
      productId: field('productId'),
      maxRedemptions: field('maxRedemptions'),
      maxPerUser: field('maxPerUser'),
      startsAt: field('startsAt'),
      endsAt: field('endsAt'),
      tzOffset: field('tzOffset'),
    };
    const offset = Number(values.tzOffset || '0');
    const fieldErrors: Record<string, string> = {};
    const kind = values.kind === 'amount' ? 'amount' : 'percent';
    const currency = values.currency.toUpperCase();
    let percentOff: number | undefined;
    let amountOffMinor: number | undefined;
    if (kind === 'percent') {
      const n = Number(values.value);
      if (!Number.isInteger(n) || n < 1 || n > 100) fieldErrors.value = 'A whole percentage from 1 to 100.';
      else percentOff = n;
    } else {
      const minor = currency ? toMinor(values.value, currency) : null;
      if (!currency) fieldErrors.currency = 'An amount off needs a currency.';
      else if (minor === null || minor < 1) fieldErrors.value = 'An amount such as 5.00.';
      else amountOffMinor = minor;
    }
    const maxRedemptions = optionalInt(values.maxRedemptions);
    const maxPerUser = optionalInt(values.maxPerUser);
    if (maxRedemptions === null) fieldErrors.maxRedemptions = 'A whole number.';
    if (maxPerUser === null) fieldErrors.maxPerUser = 'A whole number.';
    const startsAt = values.startsAt ? startsAtFromLocal(values.startsAt, offset) : undefined;
    const endsAt = values.endsAt ? startsAtFromLocal(values.endsAt, offset) : undefined;
    if (startsAt === null) fieldErrors.startsAt = 'A date and time.';
    if (endsAt === null) fieldErrors.endsAt = 'A date and time.';
    if (Object.keys(fieldErrors).length > 0) return fail(400, { coupon: { values, fieldErrors, message: CHECK_FIELDS_MESSAGE } });

    const parsed = CreateCouponInput.safeParse({
      code: values.code,
      ...(values.productId ? { productId: values.productId } : {}),
      ...(percentOff !== undefined ? { percentOff } : {}),
      ...(amountOffMinor !== undefined ? { amountOffMinor, currency } : {}),
      ...(startsAt ? { startsAt } : {}),
      ...(endsAt ? { endsAt } : {}),
      ...(maxRedemptions ? { maxRedemptions } : {}),
      ...(maxPerUser ? { maxPerUser } : {}),
    });
    const renamed = (errors: Record<string, string>) => {
      const { percentOff: p, amountOffMinor: a, ...rest } = errors;
      return { ...rest, ...(p || a ? { value: (p ?? a) as string } : {}) };
    };
    if (!parsed.success) return fail(400, { coupon: { values, fieldErrors: renamed(fieldErrorsFromIssues(parsed.error.issues)), message: CHECK_FIELDS_MESSAGE } });
    const result = await createCoupon(event, parsed.data);
    if (!result.ok) {
      const failure = failureFromApi(result.error, values, COUPON_FIELDS, 'code');
      return fail(result.status, { coupon: { ...failure, fieldErrors: renamed(failure.fieldErrors) } });
    }
    return { couponCreated: parsed.data.code };
  },

  couponActive: async (event) => {
    const form = await event.request.formData();
    const couponId = uuidParam(formString(form, 'couponId'));
    const active = formString(form, 'active') === 'true';
    const result = await setCouponActive(event, couponId, active);
    if (!result.ok) return fail(result.status, { couponToggle: { couponId, message: generalMessage(result.error) } });
    return { couponToggle: { couponId, message: null } };
  },
};
