import { fetchMyOrders } from '$lib/server/commerce.ts';
import { dataOrError } from '$lib/server/load.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const cursor = event.url.searchParams.get('cursor');
  const page = dataOrError(await fetchMyOrders(event, cursor));
  return { orders: page.data, nextCursor: page.nextCursor, cursor };
};
