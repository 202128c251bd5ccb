import { fail, redirect } from '@sveltejs/kit';
import { createEbook, fetchManagedCommunities } from '$lib/server/teach.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => ({ communities: await fetchManagedCommunities(event) });

export const actions: Actions = {
  create: async (event) => {
    const outcome = await createEbook(event);
    if (!outcome.ok) return fail(outcome.status, { create: outcome.failure });
    redirect(303, `/app/teach/ebooks/${outcome.data.id}`);
  },
};
