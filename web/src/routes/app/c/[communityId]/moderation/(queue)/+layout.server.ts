import { fetchCases } from '$lib/server/moderation.ts';
import { dataOrError } from '$lib/server/load.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async (event) => {
  const { community } = await event.parent();
  // The queue opens on the cases that need someone: open and claimed.
  const [open, claimed] = await Promise.all([fetchCases(event, community.id, 'open'), fetchCases(event, community.id, 'claimed')]);
  return { cases: [...dataOrError(open), ...dataOrError(claimed)] };
};
