import { fetchOrder } from '$lib/server/commerce.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  event.depends('app:order');
  const order = dataOrError(await fetchOrder(event, uuidParam(event.params.orderId)));
  // Stripe comes back here after confirming (?redirect_status=…): the webhook may not have landed yet.
  return { order, returnedFromStripe: event.url.searchParams.has('payment_intent') };
};
