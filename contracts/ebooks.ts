import { z } from 'zod';
import { UserRef } from './communities.ts';

/** Ebooks: authoring, claiming, reading, positions, highlights and bookmarks (wire shapes for REST and sockets). */

export const EBOOK_STATUSES = ['draft', 'published', 'unpublished'] as const;
export type EbookStatus = (typeof EBOOK_STATUSES)[number];
export const HIGHLIGHT_COLORS = ['yellow', 'green', 'blue', 'pink', 'purple'] as const;
export type HighlightColor = (typeof HIGHLIGHT_COLORS)[number];
/** A chapter's markdown source is at most this long (an imported chapter longer than this is refused). */
export const CHAPTER_BODY_MAX = 300_000;
export const EBOOK_CHAPTERS_MAX = 500;

/*
 * Reader offsets (positions, highlights, bookmarks).
 *
 * An offset counts UTF-16 code units into the chapter's reader text: the text content of `ReaderChapterDto.html`
 * (tags dropped, entities decoded, exactly what `element.textContent` gives) with the watermark's invisible
 * characters removed — pass it through `readerText()` before counting. The visible watermark line is the last
 * element of `html`, after the chapter text, so it never shifts an offset; offsets must stay below
 * `ReaderChapterDto.textLength` (the server refuses ranges past the end).
 */

/** The invisible characters the server spreads through served text to fingerprint the reader. */
export const WATERMARK_CHARACTERS = /\u200B|\u200C|\u200D|\u2060/g;

/** The text offsets are counted in: `text` with the watermark's invisible characters removed. */
export function readerText(text: string): string {
  return text.replace(WATERMARK_CHARACTERS, '');
}

const title = z.string().trim().min(1, 'Give it a title.').max(200);
const author = z.string().trim().min(1, 'Name the author.').max(200);
const description = z.string().trim().max(5000);
/** A priced ebook is bought (contracts/commerce.ts), not claimed. */
const priceMinor = z.number().int().min(0).max(100_000_000);
const currency = z.string().regex(/^[A-Z]{3}$/, 'An ISO 4217 code in capitals, e.g. EUR.');
const chapterTitle = z.string().trim().min(1, 'Give the chapter a title.').max(200);
const chapterBody = z.string().max(CHAPTER_BODY_MAX, `A chapter holds at most ${CHAPTER_BODY_MAX} characters.`);
const offset = z.number().int().min(0).max(10_000_000);
const note = z.string().trim().max(2000);

export const CreateEbookInput = z
  .strictObject({
    title,
    author,
    description: description.default(''),
    /** A community's ebook (authored by its owners and admins); without it, a platform ebook (instructors, admins). */
    communityId: z.uuid().optional(),
    priceMinor: priceMinor.default(0),
    currency: currency.optional(),
    /** An image asset of mine, ready. */
    coverAssetId: z.uuid().optional(),
  })
  .refine((v) => v.priceMinor === 0 || v.currency !== undefined, { message: 'A priced ebook needs a currency.', path: ['currency'] })
  .describe('CreateEbookInput');
export type CreateEbookInput = z.infer<typeof CreateEbookInput>;

export const UpdateEbookInput = z
  .strictObject({
    title: title.optional(),
    author: author.optional(),
    description: description.optional(),
    priceMinor: priceMinor.optional(),
    currency: currency.nullable().optional(),
    /** null removes the cover. */
    coverAssetId: z.uuid().nullable().optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), 'Change at least one field.')
  .describe('UpdateEbookInput');
export type UpdateEbookInput = z.infer<typeof UpdateEbookInput>;

/** A chapter written in markdown (the lesson profile: headings, lists, tables, links, images; no raw HTML). */
export const CreateChapterInput = z.strictObject({ title: chapterTitle, body: chapterBody }).describe('CreateChapterInput');
export type CreateChapterInput = z.infer<typeof CreateChapterInput>;

export const UpdateChapterInput = z
  .strictObject({ title: chapterTitle.optional(), body: chapterBody.optional() })
  .refine((v) => v.title !== undefined || v.body !== undefined, 'Change the title or the body.')
  .describe('UpdateChapterInput');
export type UpdateChapterInput = z.infer<typeof UpdateChapterInput>;

/** Appends the chapters of an uploaded EPUB (an `epub` asset of mine, ready), all or nothing. */
export const ImportEpubInput = z.strictObject({ assetId: z.uuid() }).describe('ImportEpubInput');

/** Every chapter of the ebook, each once, in the new order. */
export const ReorderChaptersInput = z
  .strictObject({ chapterIds: z.array(z.uuid()).min(1).max(EBOOK_CHAPTERS_MAX) })
  .refine((v) => new Set(v.chapterIds).size === v.chapterIds.length, 'A chapter appears twice.')
  .describe('ReorderChaptersInput');

export const ListEbooksQuery = z.strictObject({
  communityId: z.uuid().optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const EbookChapterParams = z.strictObject({ id: z.uuid(), chapterId: z.uuid() });
export const HighlightParams = z.strictObject({ id: z.uuid(), highlightId: z.uuid() });
export const BookmarkParams = z.strictObject({ id: z.uuid(), bookmarkId: z.uuid() });

export const SetPositionInput = z.strictObject({ chapterId: z.uuid(), offset }).describe('SetPositionInput');

export const CreateHighlightInput = z
  .strictObject({
    chapterId: z.uuid(),
    /** Reader-text offsets (see above), end exclusive. */
    start: offset,
    end: offset,
    color: z.enum(HIGHLIGHT_COLORS).default('yellow'),
    note: note.nullable().default(null),
  })
  .refine((v) => v.end > v.start, { message: 'A highlight ends after it starts.', path: ['end'] })
  .describe('CreateHighlightInput');
export type CreateHighlightInput = z.infer<typeof CreateHighlightInput>;

export const UpdateHighlightInput = z
  .strictObject({ color: z.enum(HIGHLIGHT_COLORS).optional(), note: note.nullable().optional() })
  .refine((v) => v.color !== undefined || v.note !== undefined, 'Change the colour or the note.')
  .describe('UpdateHighlightInput');
export type UpdateHighlightInput = z.infer<typeof UpdateHighlightInput>;

export const ChapterFilterQuery = z.strictObject({ chapterId: z.uuid().optional() });

export const CreateBookmarkInput = z
  .strictObject({ chapterId: z.uuid(), offset, label: z.string().trim().max(200).default('') })
  .describe('CreateBookmarkInput');
export type CreateBookmarkInput = z.infer<typeof CreateBookmarkInput>;

// ---------------------------------------------------------------- responses

export const EbookDto = z
  .object({
    id: z.uuid(),
    /** null: a platform ebook. */
    communityId: z.uuid().nullable(),
    owner: UserRef,
    title: z.string(),
    author: z.string(),
    description: z.string(),
    priceMinor: z.number().int(),
    currency: z.string().nullable(),
    coverAssetId: z.uuid().nullable(),
    status: z.enum(EBOOK_STATUSES),
    publishedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    chapterCount: z.number().int(),
  })
  .describe('Ebook');
export type EbookDto = z.infer<typeof EbookDto>;

/** A table-of-contents entry: titles only, never text. */
export const TocEntryDto = z.object({ id: z.uuid(), title: z.string(), position: z.number().int() }).describe('TocEntry');
export type TocEntryDto = z.infer<typeof TocEntryDto>;

export const EntitlementDto = z.object({ source: z.enum(['free', 'grant', 'order']), grantedAt: z.iso.datetime() }).describe('Entitlement');
export type EntitlementDto = z.infer<typeof EntitlementDto>;

export const ReadingPositionDto = z
  .object({ chapterId: z.uuid(), offset: z.number().int(), updatedAt: z.iso.datetime() })
  .describe('ReadingPosition');
export type ReadingPositionDto = z.infer<typeof ReadingPositionDto>;

export const EbookDetailDto = EbookDto.extend({
  toc: z.array(TocEntryDto),
  /** My active entitlement (a claim, a grant, a purchase), else null. */
  myEntitlement: EntitlementDto.nullable(),
  myPosition: ReadingPositionDto.nullable(),
  /** I may edit it (owner, platform admin, or an owner/admin of its community). */
  canAuthor: z.boolean(),
  /** I may open its chapters (entitled, or an author). */
  canRead: z.boolean(),
}).describe('EbookDetail');
export type EbookDetailDto = z.infer<typeof EbookDetailDto>;

export const EbookEnvelope = z.object({ ebook: EbookDetailDto }).describe('EbookEnvelope');
export type EbookEnvelope = z.infer<typeof EbookEnvelope>;
export const EbookPage = z.object({ data: z.array(EbookDto), nextCursor: z.string().nullable() }).describe('EbookPage');
export type EbookPage = z.infer<typeof EbookPage>;

/** A chapter as its authors edit it: the markdown source. */
export const ChapterSourceDto = z
  .object({ id: z.uuid(), ebookId: z.uuid(), title: z.string(), body: z.string(), position: z.number().int(), updatedAt: z.iso.datetime() })
  .describe('ChapterSource');
export type ChapterSourceDto = z.infer<typeof ChapterSourceDto>;
export const ChapterSourceEnvelope = z.object({ chapter: ChapterSourceDto }).describe('ChapterSourceEnvelope');
export type ChapterSourceEnvelope = z.infer<typeof ChapterSourceEnvelope>;

export const TocEnvelope = z.object({ toc: z.array(TocEntryDto) }).describe('TocEnvelope');
export type TocEnvelope = z.infer<typeof TocEnvelope>;

/** What an EPUB import added, and the ebook after it. */
export const ImportResultDto = z.object({ imported: z.array(TocEntryDto), ebook: EbookDetailDto }).describe('ImportResult');
export type ImportResultDto = z.infer<typeof ImportResultDto>;

/**
 * A chapter as one reader receives it: rendered HTML carrying that reader's watermark — a visible last paragraph
 * (`watermark`) and invisible characters between words that identify the reader if the text leaks.
 */
export const ReaderChapterDto = z
  .object({
    id: z.uuid(),
    ebookId: z.uuid(),
    title: z.string(),
    position: z.number().int(),
    html: z.string(),
    /** The visible watermark line, also the last paragraph of `html`. */
    watermark: z.string(),
    /** Length of the chapter's reader text (offsets are below it). */
    textLength: z.number().int(),
    previousChapterId: z.uuid().nullable(),
    nextChapterId: z.uuid().nullable(),
  })
  .describe('ReaderChapter');
export type ReaderChapterDto = z.infer<typeof ReaderChapterDto>;
export const ReaderChapterEnvelope = z.object({ chapter: ReaderChapterDto }).describe('ReaderChapterEnvelope');
export type ReaderChapterEnvelope = z.infer<typeof ReaderChapterEnvelope>;

export const ClaimResultDto = z.object({ entitlement: EntitlementDto, ebook: EbookDetailDto }).describe('ClaimResult');
export type ClaimResultDto = z.infer<typeof ClaimResultDto>;

export const PositionEnvelope = z.object({ position: ReadingPositionDto }).describe('PositionEnvelope');
export type PositionEnvelope = z.infer<typeof PositionEnvelope>;

export const HighlightDto = z
  .object({
    id: z.uuid(),
    chapterId: z.uuid(),
    start: z.number().int(),
    end: z.number().int(),
    color: z.enum(HIGHLIGHT_COLORS),
    note: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .describe('Highlight');
export type HighlightDto = z.infer<typeof HighlightDto>;
export const HighlightEnvelope = z.object({ highlight: HighlightDto }).describe('HighlightEnvelope');
export type HighlightEnvelope = z.infer<typeof HighlightEnvelope>;
export const HighlightList = z.object({ data: z.array(HighlightDto) }).describe('HighlightList');
export type HighlightList = z.infer<typeof HighlightList>;

export const BookmarkDto = z
  .object({ id: z.uuid(), chapterId: z.uuid(), offset: z.number().int(), label: z.string(), createdAt: z.iso.datetime() })
  .describe('Bookmark');
export type BookmarkDto = z.infer<typeof BookmarkDto>;
export const BookmarkEnvelope = z.object({ bookmark: BookmarkDto }).describe('BookmarkEnvelope');
export type BookmarkEnvelope = z.infer<typeof BookmarkEnvelope>;
export const BookmarkList = z.object({ data: z.array(BookmarkDto) }).describe('BookmarkList');
export type BookmarkList = z.infer<typeof BookmarkList>;

export interface EbookPositionEvent extends ReadingPositionDto {
  ebookId: string;
}

/** Live ebook events, sent to the reader's own room (`rooms.user`) so their other devices follow along. */
export interface EbookServerEvents {
  /** I moved my reading position on one device; keep the one with the latest `updatedAt`. */
  'ebook:position_updated': (event: EbookPositionEvent) => void;
}
