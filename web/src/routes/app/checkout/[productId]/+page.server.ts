import { fail, redirect } from '@sveltejs/kit';
import { CheckoutInput } from '$contracts/commerce.ts';
import { failureFromApi, fieldErrorsFromIssues, formString, CHECK_FIELDS_MESSAGE } from '$lib/forms.ts';
import { fetchProduct, fetchQuote, startCheckout } from '$lib/server/commerce.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['couponCode', 'country'];

export const load: PageServerLoad = async (event) => {
  const productId = uuidParam(event.params.productId);
  const product = dataOrError(await fetchProduct(event, productId));
  // The price before any coupon or country; the page asks again as the buyer types.
  const quote = product.owned ? null : await fetchQuote(event, { productId });
  return { product, quote: quote?.ok ? quote.data : null };
};

export const actions: Actions = {
  default: async (event) => {
    const productId = uuidParam(event.params.productId);
    const form = await event.request.formData();
    const values = { couponCode: formString(form, 'couponCode').trim(), country: formString(form, 'country').trim() };
    const parsed = CheckoutInput.safeParse({
      productId,
      ...(values.couponCode ? { couponCode: values.couponCode } : {}),
      ...(values.country ? { country: values.country } : {}),
    });
    if (!parsed.success) return fail(400, { values, fieldErrors: fieldErrorsFromIssues(parsed.error.issues), message: CHECK_FIELDS_MESSAGE });
    const result = await startCheckout(event, parsed.data);
    if (!result.ok) {
      if (result.error.code === 'unauthenticated') redirect(303, '/signin');
      return fail(result.status, failureFromApi(result.error, values, FIELDS));
    }
    const { order, payment } = result.data;
    if (payment.provider === 'test') redirect(303, `/app/checkout/test/${order.id}`);
    if (payment.provider === 'none') redirect(303, `/app/orders/${order.id}`);
    // Stripe: the page mounts the Payment Element with this order's client secret.
    return { stripe: { orderId: order.id, clientSecret: payment.clientSecret, publishableKey: payment.publishableKey }, order };
  },
};
