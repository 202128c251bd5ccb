import type { BookmarkDto, CreateBookmarkInput, CreateHighlightInput, HighlightDto, UpdateHighlightInput } from '../../contracts/ebooks.ts';
import { db, type Db } from '../../orm/db.ts';
import { authorizeEbook } from '../access/ebook.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { presentBookmark, presentHighlight } from './presenters.ts';
import { assertWithin, loadReadableChapter } from './reading.ts';

/*
 * Highlights (with notes) and bookmarks: private to their reader. Every statement is scoped to the caller's own rows,
 * so someone else's highlight or bookmark id answers `not_found`, exactly like an id that does not exist. Offsets are
 * reader-text offsets (contracts/ebooks.ts) and must lie inside the chapter.
 */

async function reader(deps: Deps, actor: Actor, ebookId: string): Promise<Db> {
  const q = db(deps.orm.em.fork());
  await authorizeEbook(q, actor, ebookId, 'read');
  return q;
}

const noHighlight = () => new AppError('not_found', 'No such highlight.');

export async function createHighlight(deps: Deps, actor: Actor, ebookId: string, input: CreateHighlightInput): Promise<HighlightDto> {
  const q = await reader(deps, actor, ebookId);
  const chapter = await loadReadableChapter(q, ebookId, input.chapterId);
  assertWithin(chapter.textLength, 'end', input.end);
  const now = deps.clock.now();
  const row = await q
    .insertInto('ebook_highlights')
    .values({
      id: crypto.randomUUID(),
      ebook_id: ebookId,
      user_id: actor.userId,
      chapter_id: input.chapterId,
      start_offset: input.start,
      end_offset: input.end,
      color: input.color,
      note: input.note || null,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return presentHighlight(row);
}

export async function updateHighlight(deps: Deps, actor: Actor, ebookId: string, highlightId: string, input: UpdateHighlightInput): Promise<HighlightDto> {
  const q = await reader(deps, actor, ebookId);
  const row = await q
    .updateTable('ebook_highlights')
    .set({ color: input.color, note: input.note === undefined ? undefined : input.note || null, updated_at: deps.clock.now() })
    .where('id', '=', highlightId)
    .where('ebook_id', '=', ebookId)
    .where('user_id', '=', actor.userId)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw noHighlight();
  return presentHighlight(row);
}

export async function deleteHighlight(deps: Deps, actor: Actor, ebookId: string, highlightId: string): Promise<void> {
  const q = await reader(deps, actor, ebookId);
  const row = await q
    .deleteFrom('ebook_highlights')
    .where('id', '=', highlightId)
    .where('ebook_id', '=', ebookId)
    .where('user_id', '=', actor.userId)
    .returning('id')
    .executeTakeFirst();
  if (!row) throw noHighlight();
}

/** My highlights in reading order (of one chapter, or the whole ebook). */
export async function listHighlights(deps: Deps, actor: Actor, ebookId: string, chapterId?: string): Promise<HighlightDto[]> {
  const q = await reader(deps, actor, ebookId);
  const rows = await q
    .selectFrom('ebook_highlights as h')
    .innerJoin('ebook_chapters as c', 'c.id', 'h.chapter_id')
    .selectAll('h')
    .where('h.ebook_id', '=', ebookId)
    .where('h.user_id', '=', actor.userId)
    .$if(chapterId !== undefined, (qb) => qb.where('h.chapter_id', '=', chapterId!))
    .orderBy('c.position')
    .orderBy('h.start_offset')
    .orderBy('h.id')
    .execute();
  return rows.map(presentHighlight);
}

export async function createBookmark(deps: Deps, actor: Actor, ebookId: string, input: CreateBookmarkInput): Promise<BookmarkDto> {
  const q = await reader(deps, actor, ebookId);
  const chapter = await loadReadableChapter(q, ebookId, input.chapterId);
  assertWithin(chapter.textLength, 'offset', input.offset);
  const row = await q
    .insertInto('ebook_bookmarks')
    .values({
      id: crypto.randomUUID(),
      ebook_id: ebookId,
      user_id: actor.userId,
      chapter_id: input.chapterId,
      offset: input.offset,
      label: input.label,
      created_at: deps.clock.now(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return presentBookmark(row);
}

export async function listBookmarks(deps: Deps, actor: Actor, ebookId: string, chapterId?: string): Promise<BookmarkDto[]> {
  const q = await reader(deps, actor, ebookId);
  const rows = await q
    .selectFrom('ebook_bookmarks as b')
    .innerJoin('ebook_chapters as c', 'c.id', 'b.chapter_id')
    .selectAll('b')
    .where('b.ebook_id', '=', ebookId)
    .where('b.user_id', '=', actor.userId)
    .$if(chapterId !== undefined, (qb) => qb.where('b.chapter_id', '=', chapterId!))
    .orderBy('c.position')
    .orderBy('b.offset')
    .orderBy('b.id')
    .execute();
  return rows.map(presentBookmark);
}

export async function deleteBookmark(deps: Deps, actor: Actor, ebookId: string, bookmarkId: string): Promise<void> {
  const q = await reader(deps, actor, ebookId);
  const row = await q
    .deleteFrom('ebook_bookmarks')
    .where('id', '=', bookmarkId)
    .where('ebook_id', '=', ebookId)
    .where('user_id', '=', actor.userId)
    .returning('id')
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such bookmark.');
}
