import { error } from '@sveltejs/kit';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import { fetchEbook } from '$lib/server/teach.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async (event) => {
  const ebook = dataOrError(await fetchEbook(event, uuidParam(event.params.ebookId)));
  if (!ebook.canAuthor) error(403, 'Only this ebook’s authors can edit it.');
  return { ebook };
};
