import { dataOrError } from '$lib/server/load.ts';
import { fetchAnalytics } from '$lib/server/teach.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const { course } = await event.parent();
  return { analytics: dataOrError(await fetchAnalytics(event, course.id)) };
};
