import type {
  BookmarkList,
  ClaimResultDto,
  EbookEnvelope,
  EbookPage,
  HighlightList,
  ReaderChapterEnvelope,
} from '$contracts/ebooks.ts';
import { apiRequest, type ApiCaller, type ApiResult } from './api.ts';

interface Session {
  locals: App.Locals;
}
type Caller = ApiCaller & Session;

export const EBOOK_PAGE_SIZE = 24;

/** Published ebooks I may see (a community's only, with `communityId`). */
export function fetchEbooks(event: Caller, options: { cursor?: string | null; communityId?: string | null } = {}): Promise<ApiResult<EbookPage>> {
  const query = new URLSearchParams({ limit: String(EBOOK_PAGE_SIZE) });
  if (options.cursor) query.set('cursor', options.cursor.slice(0, 200));
  if (options.communityId) query.set('communityId', options.communityId);
  return apiRequest<EbookPage>(event, `/api/v1/ebooks?${query}`, { token: event.locals.accessToken });
}

export function fetchEbook(event: Caller, ebookId: string): Promise<ApiResult<EbookEnvelope>> {
  return apiRequest<EbookEnvelope>(event, `/api/v1/ebooks/${ebookId}`, { token: event.locals.accessToken });
}

export function claimEbook(event: Caller, ebookId: string): Promise<ApiResult<ClaimResultDto>> {
  return apiRequest<ClaimResultDto>(event, `/api/v1/ebooks/${ebookId}/claim`, { method: 'POST', token: event.locals.accessToken });
}

/** One chapter as this reader receives it (rendered HTML with the reader's watermark). */
export function fetchChapter(event: Caller, ebookId: string, chapterId: string): Promise<ApiResult<ReaderChapterEnvelope>> {
  return apiRequest<ReaderChapterEnvelope>(event, `/api/v1/ebooks/${ebookId}/chapters/${chapterId}`, { token: event.locals.accessToken });
}

export function fetchHighlights(event: Caller, ebookId: string): Promise<ApiResult<HighlightList>> {
  return apiRequest<HighlightList>(event, `/api/v1/ebooks/${ebookId}/highlights`, { token: event.locals.accessToken });
}

export function fetchBookmarks(event: Caller, ebookId: string): Promise<ApiResult<BookmarkList>> {
  return apiRequest<BookmarkList>(event, `/api/v1/ebooks/${ebookId}/bookmarks`, { token: event.locals.accessToken });
}
