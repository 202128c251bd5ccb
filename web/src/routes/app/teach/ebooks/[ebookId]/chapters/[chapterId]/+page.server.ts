import { fail, redirect } from '@sveltejs/kit';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import { fetchChapterSource, saveChapter } from '$lib/server/teach.ts';
import type { Actions, PageServerLoad } from './$types';

/** `chapters/new` writes a new chapter; any other id edits that chapter's markdown source. */
export const load: PageServerLoad = async (event) => {
  const ebookId = uuidParam(event.params.ebookId);
  if (event.params.chapterId === 'new') return { chapter: null };
  return { chapter: dataOrError(await fetchChapterSource(event, ebookId, uuidParam(event.params.chapterId))) };
};

export const actions: Actions = {
  save: async (event) => {
    const ebookId = uuidParam(event.params.ebookId);
    const chapterId = event.params.chapterId === 'new' ? null : uuidParam(event.params.chapterId);
    const outcome = await saveChapter(event, ebookId, chapterId);
    if (!outcome.ok) return fail(outcome.status, { save: outcome.failure });
    if (!chapterId) redirect(303, `/app/teach/ebooks/${ebookId}/chapters/${outcome.data.id}`);
    return { saved: true };
  },
};
