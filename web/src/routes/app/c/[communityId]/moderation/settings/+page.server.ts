import { fail } from '@sveltejs/kit';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import { fetchSettings, requireRight, saveSettings } from '$lib/server/moderation.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const { community, rights } = await event.parent();
  requireRight(rights.administer, 'admins');
  return { settings: dataOrError(await fetchSettings(event, community.id)) };
};

export const actions: Actions = {
  save: async (event) => {
    const outcome = await saveSettings(event, uuidParam(event.params.communityId));
    if (!outcome.ok) return fail(outcome.status, { save: outcome.failure });
    return { saved: true };
  },
};
