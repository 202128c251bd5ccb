import { fail, redirect } from '@sveltejs/kit';
import { formString, generalMessage } from '$lib/forms.ts';
import { claimEbook, fetchEbooks } from '$lib/server/ebooks.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const cursor = event.url.searchParams.get('cursor');
  const page = dataOrError(await fetchEbooks(event, { cursor }));
  return { ebooks: page.data, nextCursor: page.nextCursor, paged: Boolean(cursor) };
};

export const actions: Actions = {
  claim: async (event) => {
    const form = await event.request.formData();
    const ebookId = formString(form, 'ebookId');
    const id = uuidParam(ebookId);
    const result = await claimEbook(event, id);
    // Claiming is idempotent; a 409 is a priced book (buy it first), said in the API's words.
    if (!result.ok) return fail(result.status, { claim: { ebookId: id, message: generalMessage(result.error) } });
    redirect(303, `/app/ebooks/${id}/read`);
  },
};
