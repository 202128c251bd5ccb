import { fail, redirect } from '@sveltejs/kit';
import { generalMessage } from '$lib/forms.ts';
import { claimEbook, fetchEbook } from '$lib/server/ebooks.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  event.depends('app:ebook');
  const { ebook } = dataOrError(await fetchEbook(event, uuidParam(event.params.ebookId)));
  return { ebook };
};

export const actions: Actions = {
  claim: async (event) => {
    const ebookId = uuidParam(event.params.ebookId);
    const result = await claimEbook(event, ebookId);
    // Claiming is idempotent; a 409 is a priced book (buy it first), said in the API's words.
    if (!result.ok) return fail(result.status, { claim: { message: generalMessage(result.error) } });
    redirect(303, `/app/ebooks/${ebookId}/read`);
  },
};
