import { IdParam } from '../../contracts/communities.ts';
import {
  BookmarkEnvelope,
  BookmarkList,
  BookmarkParams,
  ChapterFilterQuery,
  ChapterSourceEnvelope,
  ClaimResultDto,
  CreateBookmarkInput,
  CreateChapterInput,
  CreateEbookInput,
  CreateHighlightInput,
  EbookChapterParams,
  EbookEnvelope,
  EbookPage,
  HighlightEnvelope,
  HighlightList,
  HighlightParams,
  ImportEpubInput,
  ImportResultDto,
  ListEbooksQuery,
  PositionEnvelope,
  ReaderChapterEnvelope,
  ReorderChaptersInput,
  SetPositionInput,
  TocEnvelope,
  UpdateChapterInput,
  UpdateEbookInput,
  UpdateHighlightInput,
} from '../../contracts/ebooks.ts';
import {
  createBookmark,
  createHighlight,
  deleteBookmark,
  deleteHighlight,
  listBookmarks,
  listHighlights,
  updateHighlight,
} from '../../domain/ebooks/annotations.ts';
import {
  addChapter,
  createEbook,
  deleteChapter,
  getChapterSource,
  publishEbook,
  reorderChapters,
  unpublishEbook,
  updateChapter,
  updateEbook,
} from '../../domain/ebooks/authoring.ts';
import { claimEbook, getEbook, listEbooks } from '../../domain/ebooks/catalogue.ts';
import { importEpub } from '../../domain/ebooks/importEpub.ts';
import { readChapter, setPosition } from '../../domain/ebooks/reading.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import { reply, type RouteKit } from '../routeKit.ts';

const tags = ['ebooks'];

/** Ebooks: authoring (metadata, markdown chapters, EPUB import, publishing), the catalogue, claiming, and reading. */
export function ebookRoutes(route: RouteKit, deps: Deps) {
  // ------------------------------------------------------------------ catalogue and authoring

  route(
    {
      method: 'post',
      path: '/ebooks',
      summary: 'Start an ebook as a draft (platform instructors and admins; a community’s owners and admins for its ebooks)',
      tags,
      auth: true,
      body: CreateEbookInput,
      responses: { 201: { description: 'The draft', schema: EbookEnvelope } },
    },
    async (ctx, { body }) => ({ ebook: await createEbook(deps, actorOf(ctx), body) }),
  );

  route(
    {
      method: 'get',
      path: '/ebooks',
      summary: 'Published ebooks I may see, newest first (one community, or everywhere); cursor-paginated',
      tags,
      auth: true,
      query: ListEbooksQuery,
      responses: { 200: { description: 'A page of ebooks', schema: EbookPage } },
    },
    async (ctx, { query }) => listEbooks(deps, actorOf(ctx), query),
  );

  route(
    {
      method: 'get',
      path: '/ebooks/:id',
      summary: 'One ebook: metadata, table of contents (titles only), my entitlement and my reading position',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'The ebook', schema: EbookEnvelope } },
    },
    async (ctx, { params }) => ({ ebook: await getEbook(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'patch',
      path: '/ebooks/:id',
      summary: 'Edit the metadata (authors)',
      tags,
      auth: true,
      params: IdParam,
      body: UpdateEbookInput,
      responses: { 200: { description: 'Updated', schema: EbookEnvelope } },
    },
    async (ctx, { params, body }) => ({ ebook: await updateEbook(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'post',
      path: '/ebooks/:id/publish',
      summary: 'Show it in the catalogue (needs at least one chapter); idempotent',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Published', schema: EbookEnvelope } },
    },
    async (ctx, { params }) => ({ ebook: await publishEbook(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'post',
      path: '/ebooks/:id/unpublish',
      summary: 'Take it out of the catalogue; readers who hold it keep reading; idempotent',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Unpublished', schema: EbookEnvelope } },
    },
    async (ctx, { params }) => ({ ebook: await unpublishEbook(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'post',
      path: '/ebooks/:id/chapters',
      summary: 'Append a chapter written in markdown (authors)',
      tags,
      auth: true,
      params: IdParam,
      body: CreateChapterInput,
      responses: { 201: { description: 'The chapter', schema: ChapterSourceEnvelope } },
    },
    async (ctx, { params, body }) => ({ chapter: await addChapter(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'put',
      path: '/ebooks/:id/chapters/order',
      summary: 'Reorder the chapters: every chapter id once, in the new order (authors)',
      tags,
      auth: true,
      params: IdParam,
      body: ReorderChaptersInput,
      responses: { 200: { description: 'The table of contents', schema: TocEnvelope } },
    },
    async (ctx, { params, body }) => ({ toc: await reorderChapters(deps, actorOf(ctx), params.id, body.chapterIds) }),
  );

  route(
    {
      method: 'post',
      path: '/ebooks/:id/import',
      summary: 'Append the chapters of an uploaded EPUB (an epub asset of mine), all or nothing (authors)',
      tags,
      auth: true,
      params: IdParam,
      body: ImportEpubInput,
      responses: { 201: { description: 'The chapters added and the ebook', schema: ImportResultDto } },
    },
    async (ctx, { params, body }) => importEpub(deps, actorOf(ctx), params.id, body.assetId),
  );

  route(
    {
      method: 'get',
      path: '/ebooks/:id/chapters/:chapterId/source',
      summary: 'A chapter’s markdown source, for editing (authors)',
      tags,
      auth: true,
      params: EbookChapterParams,
      responses: { 200: { description: 'The chapter', schema: ChapterSourceEnvelope } },
    },
    async (ctx, { params }) => ({ chapter: await getChapterSource(deps, actorOf(ctx), params.id, params.chapterId) }),
  );

  route(
    {
      method: 'patch',
      path: '/ebooks/:id/chapters/:chapterId',
      summary: 'Edit a chapter’s title or markdown (authors)',
      tags,
      auth: true,
      params: EbookChapterParams,
      body: UpdateChapterInput,
      responses: { 200: { description: 'The chapter', schema: ChapterSourceEnvelope } },
    },
    async (ctx, { params, body }) => ({ chapter: await updateChapter(deps, actorOf(ctx), params.id, params.chapterId, body) }),
  );

  route(
    {
      method: 'delete',
      path: '/ebooks/:id/chapters/:chapterId',
      summary: 'Remove a chapter (a published ebook keeps at least one) (authors)',
      tags,
      auth: true,
      params: EbookChapterParams,
      responses: { 200: { description: 'The table of contents', schema: TocEnvelope } },
    },
    async (ctx, { params }) => ({ toc: await deleteChapter(deps, actorOf(ctx), params.id, params.chapterId) }),
  );

  // ------------------------------------------------------------------ readers

  route(
    {
      method: 'post',
      path: '/ebooks/:id/claim',
      summary: 'Take a free copy (409 for a priced ebook until payments open); idempotent: 200 when already mine',
      tags,
      auth: true,
      params: IdParam,
      responses: {
        201: { description: 'Claimed', schema: ClaimResultDto },
        200: { description: 'Already mine; nothing changed', schema: ClaimResultDto },
      },
    },
    async (ctx, { params }) => {
      const { changed, ...result } = await claimEbook(deps, actorOf(ctx), params.id);
      return reply(changed ? 201 : 200, result);
    },
  );

  route(
    {
      method: 'get',
      path: '/ebooks/:id/chapters/:chapterId',
      summary: 'Read a chapter (entitled readers and authors): HTML watermarked for me',
      tags,
      auth: true,
      params: EbookChapterParams,
      responses: { 200: { description: 'The chapter', schema: ReaderChapterEnvelope } },
    },
    async (ctx, { params }) => ({ chapter: await readChapter(deps, actorOf(ctx), params.id, params.chapterId) }),
  );

  route(
    {
      method: 'put',
      path: '/ebooks/:id/position',
      summary: 'Move my reading position; my other devices follow (ebook:position_updated)',
      tags,
      auth: true,
      params: IdParam,
      body: SetPositionInput,
      responses: { 200: { description: 'My position', schema: PositionEnvelope } },
    },
    async (ctx, { params, body }) => ({ position: await setPosition(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'post',
      path: '/ebooks/:id/highlights',
      summary: 'Highlight a passage, optionally with a note (private to me)',
      tags,
      auth: true,
      params: IdParam,
      body: CreateHighlightInput,
      responses: { 201: { description: 'The highlight', schema: HighlightEnvelope } },
    },
    async (ctx, { params, body }) => ({ highlight: await createHighlight(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'get',
      path: '/ebooks/:id/highlights',
      summary: 'My highlights in reading order (one chapter with ?chapterId=)',
      tags,
      auth: true,
      params: IdParam,
      query: ChapterFilterQuery,
      responses: { 200: { description: 'My highlights', schema: HighlightList } },
    },
    async (ctx, { params, query }) => ({ data: await listHighlights(deps, actorOf(ctx), params.id, query.chapterId) }),
  );

  route(
    {
      method: 'patch',
      path: '/ebooks/:id/highlights/:highlightId',
      summary: 'Change the colour or note of my highlight',
      tags,
      auth: true,
      params: HighlightParams,
      body: UpdateHighlightInput,
      responses: { 200: { description: 'The highlight', schema: HighlightEnvelope } },
    },
    async (ctx, { params, body }) => ({ highlight: await updateHighlight(deps, actorOf(ctx), params.id, params.highlightId, body) }),
  );

  route(
    {
      method: 'delete',
      path: '/ebooks/:id/highlights/:highlightId',
      summary: 'Remove my highlight',
      tags,
      auth: true,
      params: HighlightParams,
      responses: { 204: { description: 'Removed' } },
    },
    async (ctx, { params }) => deleteHighlight(deps, actorOf(ctx), params.id, params.highlightId),
  );

  route(
    {
      method: 'post',
      path: '/ebooks/:id/bookmarks',
      summary: 'Bookmark a place (private to me)',
      tags,
      auth: true,
      params: IdParam,
      body: CreateBookmarkInput,
      responses: { 201: { description: 'The bookmark', schema: BookmarkEnvelope } },
    },
    async (ctx, { params, body }) => ({ bookmark: await createBookmark(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'get',
      path: '/ebooks/:id/bookmarks',
      summary: 'My bookmarks in reading order (one chapter with ?chapterId=)',
      tags,
      auth: true,
      params: IdParam,
      query: ChapterFilterQuery,
      responses: { 200: { description: 'My bookmarks', schema: BookmarkList } },
    },
    async (ctx, { params, query }) => ({ data: await listBookmarks(deps, actorOf(ctx), params.id, query.chapterId) }),
  );

  route(
    {
      method: 'delete',
      path: '/ebooks/:id/bookmarks/:bookmarkId',
      summary: 'Remove my bookmark',
      tags,
      auth: true,
      params: BookmarkParams,
      responses: { 204: { description: 'Removed' } },
    },
    async (ctx, { params }) => deleteBookmark(deps, actorOf(ctx), params.id, params.bookmarkId),
  );
}
