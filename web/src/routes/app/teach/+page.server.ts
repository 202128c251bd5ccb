import { fetchTeaching } from '$lib/server/teach.ts';
import { dataOrError } from '$lib/server/load.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const { courses, ebooks } = dataOrError(await fetchTeaching(event));
  return { courses, ebooks };
};
