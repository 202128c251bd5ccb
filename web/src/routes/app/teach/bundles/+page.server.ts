import { fail } from '@sveltejs/kit';
import { CreateBundleInput, UpdateBundleInput, type BundleDto, type BundleList } from '$contracts/commerce.ts';
import { itemKey, parseItemKey, type BundleCandidate } from '$lib/components/bundles/bundleMath.ts';
import { toMinor } from '$lib/components/commerce/money.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromApi, fieldErrorsFromIssues, formString, generalMessage, type FieldErrors } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import { fetchTeaching } from '$lib/server/teach.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['title', 'description', 'price', 'currency', 'items'];

export const load: PageServerLoad = async (event) => {
  const token = event.locals.accessToken;
  const [bundles, teaching] = await Promise.all([apiRequest<BundleList>(event, '/api/v1/me/bundles', { token }), fetchTeaching(event)]);
  const { courses, ebooks } = dataOrError(teaching);
  const me = event.locals.user?.id;
  // The API's own rule (domain/commerce/bundles.ts): published, priced, and mine — an instructor of the course, the
  // owner of the ebook. Courses and ebooks of communities I merely run are not mine to sell.
  const candidates: BundleCandidate[] = [
    ...courses
      .filter((c) => c.status === 'published' && c.priceMinor > 0 && c.currency && c.instructors.some((i) => i.user.id === me))
      .map((c) => ({ key: itemKey({ type: 'course', id: c.id }), type: 'course' as const, id: c.id, title: c.title, priceMinor: c.priceMinor, currency: c.currency! })),
    ...ebooks
      .filter((e) => e.status === 'published' && e.priceMinor > 0 && e.currency && e.owner.id === me)
      .map((e) => ({ key: itemKey({ type: 'ebook', id: e.id }), type: 'ebook' as const, id: e.id, title: e.title, priceMinor: e.priceMinor, currency: e.currency! })),
  ];
  return {
    bundles: dataOrError(bundles).data,
    candidates,
    notEligible: courses.length + ebooks.length - candidates.length,
  };
};

/**
 * Field messages as the form shows them: the API names a bad item by its position in what was sent (`items.2`), the
 * form shows it beside that item's checkbox; `priceMinor` is the "price" field. Messages for fields the form does not
 * have come back as `stray`, to be said above the form rather than dropped.
 */
function placeErrors(fieldErrors: FieldErrors, sent: readonly string[]): { fieldErrors: FieldErrors; stray: string[] } {
  const placed: FieldErrors = {};
  const stray: string[] = [];
  for (const [name, message] of Object.entries(fieldErrors)) {
    const index = /^items\.(\d+)/.exec(name)?.[1];
    const key = index === undefined ? undefined : sent[Number(index)];
    const target = key ? `item:${key}` : name === 'priceMinor' ? 'price' : name.startsWith('items') ? 'items' : name;
    if (key || FIELDS.includes(target)) placed[target] ??= message;
    else stray.push(message);
  }
  return { fieldErrors: placed, stray };
}

export const actions: Actions = {
  create: async (event) => {
    const form = await event.request.formData();
    const field = (name: string) => formString(form, name).trim();
    const picked = form
      .getAll('item')
      .filter((v): v is string => typeof v === 'string')
      .map(parseItemKey)
      .filter((v) => v !== null);
    const sent = picked.map(itemKey);
    const currency = field('currency').toUpperCase();
    const values = {
      title: field('title'),
      description: field('description'),
      price: field('price'),
      currency,
      publish: form.get('publish') === 'on' ? 'on' : '',
      items: sent.join(','),
    };
    const priceMinor = toMinor(values.price, /^[A-Z]{3}$/.test(currency) ? currency : 'EUR');
    if (priceMinor === null || priceMinor < 1) {
      return fail(400, { create: { values, fieldErrors: { price: 'Enter a price such as 29.00.' }, message: CHECK_FIELDS_MESSAGE } });
    }
    const parsed = CreateBundleInput.safeParse({
      title: values.title,
      description: values.description,
      priceMinor,
      currency,
      items: picked,
      publish: values.publish === 'on',
    });
    if (!parsed.success) {
      const { fieldErrors, stray } = placeErrors(fieldErrorsFromIssues(parsed.error.issues), sent);
      return fail(400, { create: { values, fieldErrors, message: [CHECK_FIELDS_MESSAGE, ...stray].join(' ') } });
    }
    const result = await apiRequest<BundleDto>(event, '/api/v1/bundles', { method: 'POST', body: parsed.data, token: event.locals.accessToken });
    if (!result.ok) {
      const { fieldErrors, stray } = placeErrors(fieldErrorsFromApi(result.error), sent);
      const lead = Object.keys(fieldErrors).length > 0 && stray.length === 0 ? CHECK_FIELDS_MESSAGE : generalMessage(result.error);
      return fail(result.status, { create: { values, fieldErrors, message: [lead, ...stray].join(' ') } });
    }
    return { created: { id: result.data.id, title: result.data.title, status: result.data.status } };
  },

  status: async (event) => {
    const form = await event.request.formData();
    const bundleId = uuidParam(formString(form, 'bundleId'));
    const parsed = UpdateBundleInput.safeParse({ status: formString(form, 'status') });
    if (!parsed.success) return fail(400, { statusChange: { bundleId, message: 'Choose publish or archive.' } });
    const result = await apiRequest<BundleDto>(event, `/api/v1/bundles/${bundleId}`, { method: 'PATCH', body: parsed.data, token: event.locals.accessToken });
    if (!result.ok) return fail(result.status, { statusChange: { bundleId, message: failureFromApi(result.error, {}, []).message } });
    return { statusChange: { bundleId, message: null, status: result.data.status } };
  },
};
