import { fetchFeed } from '$lib/server/feed.ts';
import { dataOrError } from '$lib/server/load.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  return { page: dataOrError(await fetchFeed(event, null)) };
};
