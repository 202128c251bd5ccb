import { fail } from '@sveltejs/kit';
import { generalMessage } from '$lib/forms.ts';
import { fetchOrder, submitTestPayment } from '$lib/server/commerce.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const order = dataOrError(await fetchOrder(event, uuidParam(event.params.orderId)));
  return { order };
};

async function answer(event: Parameters<Actions[string]>[0], outcome: 'pay' | 'decline') {
  const result = await submitTestPayment(event, uuidParam(event.params.orderId), outcome);
  if (!result.ok) return fail(result.status, { outcome, message: generalMessage(result.error) });
  // Accepted: the order settles a moment later; the page follows it live.
  return { outcome, message: null };
}

export const actions: Actions = {
  pay: (event) => answer(event, 'pay'),
  decline: (event) => answer(event, 'decline'),
};
