import { fail } from '@sveltejs/kit';
import { uuidParam } from '$lib/server/load.ts';
import { ebookCommand, fetchManagedCommunities, updateEbook } from '$lib/server/teach.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => ({ communities: await fetchManagedCommunities(event) });

export const actions: Actions = {
  saveDetails: async (event) => {
    const outcome = await updateEbook(event, uuidParam(event.params.ebookId));
    if (!outcome.ok) return fail(outcome.status, { details: outcome.failure });
    return { detailsSaved: true };
  },
  publish: async (event) => {
    const outcome = await ebookCommand(event, uuidParam(event.params.ebookId), 'publish');
    if (!outcome.ok) return fail(outcome.status, { publish: { ok: false, message: outcome.message, published: false } });
    return { publish: { ok: true, message: null, published: true } };
  },
  unpublish: async (event) => {
    const outcome = await ebookCommand(event, uuidParam(event.params.ebookId), 'unpublish');
    if (!outcome.ok) return fail(outcome.status, { publish: { ok: false, message: outcome.message, published: true } });
    return { publish: { ok: true, message: null, published: false } };
  },
  import: async (event) => {
    const outcome = await ebookCommand(event, uuidParam(event.params.ebookId), 'import');
    if (!outcome.ok) return fail(outcome.status, { import: { ok: false, message: outcome.message } });
    const count = outcome.imported ?? 0;
    return { import: { ok: true, message: `Imported ${count} ${count === 1 ? 'chapter' : 'chapters'}.` } };
  },
  reorder: async (event) => {
    const outcome = await ebookCommand(event, uuidParam(event.params.ebookId), 'reorder');
    if (!outcome.ok) return fail(outcome.status, { reorder: { ok: false, message: outcome.message } });
    return { reorder: { ok: true, message: null } };
  },
};
