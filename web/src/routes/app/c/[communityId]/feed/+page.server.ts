import { fail, redirect } from '@sveltejs/kit';
import { createPost, fetchFeedShowing } from '$lib/server/feed.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const communityId = uuidParam(event.params.communityId);
  return { page: dataOrError(await fetchFeedShowing(event, communityId, event.url.searchParams.get('post'))) };
};

export const actions: Actions = {
  // The composer: with JavaScript the page puts the answer on screen; without, it reloads with the post on top.
  post: async (event) => {
    const communityId = uuidParam(event.params.communityId);
    const outcome = await createPost(event, communityId);
    if (!outcome.ok) return fail(outcome.status, { post: outcome.failure });
    if (event.request.headers.get('x-sveltekit-action') === 'true') return { created: outcome.post };
    redirect(303, `/app/c/${communityId}/feed`);
  },
};
