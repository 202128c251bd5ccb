import { error, redirect } from '@sveltejs/kit';
import { generalMessage } from '$lib/forms.ts';
import { fetchBookmarks, fetchChapter, fetchEbook, fetchHighlights } from '$lib/server/ebooks.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { PageServerLoad } from './$types';

/**
 * The reader opens the chapter in `?chapter=` (from the contents, a bookmark or next/previous), else the chapter of
 * the saved place on any device, else the first. `?offset=` scrolls to a reader offset in it (a bookmark).
 */
export const load: PageServerLoad = async (event) => {
  const ebookId = uuidParam(event.params.ebookId);
  const { ebook } = dataOrError(await fetchEbook(event, ebookId));
  if (!ebook.canRead) redirect(303, `/app/ebooks/${ebookId}`);
  const asked = event.url.searchParams.get('chapter');
  const chapterId = asked ? uuidParam(asked) : (ebook.myPosition?.chapterId ?? ebook.toc[0]?.id);
  if (!chapterId) error(404, 'This ebook has no chapters yet.');
  const [chapter, highlights, bookmarks] = await Promise.all([
    fetchChapter(event, ebookId, chapterId),
    fetchHighlights(event, ebookId),
    fetchBookmarks(event, ebookId),
  ]);
  const offsetParam = Number(event.url.searchParams.get('offset'));
  const saved = ebook.myPosition?.chapterId === chapterId ? ebook.myPosition.offset : 0;
  const restoreOffset = Number.isInteger(offsetParam) && offsetParam > 0 ? offsetParam : saved;
  return {
    ebook,
    chapter: dataOrError(chapter).chapter,
    highlights: highlights.ok ? highlights.data.data : [],
    bookmarks: bookmarks.ok ? bookmarks.data.data : [],
    annotationsError: !highlights.ok ? generalMessage(highlights.error) : !bookmarks.ok ? generalMessage(bookmarks.error) : null,
    restoreOffset,
  };
};
