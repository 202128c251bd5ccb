import type { ReaderChapterDto, ReadingPositionDto } from '../../contracts/ebooks.ts';
import { db, type Db } from '../../orm/db.ts';
import { authorizeEbook } from '../access/ebook.ts';
import { renderMarkdown } from '../content/markdown.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import './events.ts';
import { markHtml, readerCode, readerTextLength, watermarkKey } from './watermark.ts';
import { escapeHtml } from '../content/escapeHtml.ts';

/*
 * Reading: a chapter as one reader receives it (rendered, watermarked for them), and their reading position, which
 * follows them to their other devices live. Only the entitled and the authors get here (EbookPolicy.read).
 */

interface RenderedChapter {
  html: string;
  textLength: number;
}

/** Rendered chapters by id and version: positions and highlights check offsets against the length on every call. */
const rendered = new Map<string, RenderedChapter>();
const RENDER_CACHE_SIZE = 200;

function renderChapter(chapter: { id: string; body: string; updated_at: Date }): RenderedChapter {
  const key = `${chapter.id}:${chapter.updated_at.getTime()}`;
  const hit = rendered.get(key);
  if (hit) {
    rendered.delete(key);
    rendered.set(key, hit);
    return hit;
  }
  const html = renderMarkdown(chapter.body, { profile: 'lesson' });
  const result = { html, textLength: readerTextLength(html) };
  rendered.set(key, result);
  if (rendered.size > RENDER_CACHE_SIZE) rendered.delete(rendered.keys().next().value!);
  return result;
}

/** A chapter of the ebook with its rendered length; `not_found` when the chapter is not one of the ebook's. */
export async function loadReadableChapter(q: Db, ebookId: string, chapterId: string) {
  const chapter = await q
    .selectFrom('ebook_chapters')
    .select(['id', 'ebook_id', 'title', 'body', 'position', 'updated_at'])
    .where('id', '=', chapterId)
    .where('ebook_id', '=', ebookId)
    .executeTakeFirst();
  if (!chapter) throw new AppError('not_found', 'No such chapter in this ebook.');
  return { ...chapter, ...renderChapter(chapter) };
}

/** Offsets past the end of the chapter's reader text are refused. */
export function assertWithin(textLength: number, field: string, offset: number): void {
  if (offset <= textLength) return;
  const message = `The chapter's text is ${textLength} characters long; ${field} ${offset} lies past its end.`;
  throw new AppError('invalid_input', message, { details: { fields: { [field]: message } } });
}

/** One chapter for one reader: rendered markdown, marked for them between words, and their visible watermark line. */
export async function readChapter(deps: Deps, actor: Actor, ebookId: string, chapterId: string): Promise<ReaderChapterDto> {
  const q = db(deps.orm.em.fork());
  await authorizeEbook(q, actor, ebookId, 'read');
  const chapter = await loadReadableChapter(q, ebookId, chapterId);
  const [reader, neighbours] = await Promise.all([
    q.selectFrom('users').select('display_name').where('id', '=', actor.userId).executeTakeFirstOrThrow(),
    q.selectFrom('ebook_chapters').select(['id', 'position']).where('ebook_id', '=', ebookId).orderBy('position').orderBy('created_at').execute(),
  ]);
  const at = neighbours.findIndex((c) => c.id === chapterId);
  const watermark = `Licensed to ${reader.display_name} · ${deps.clock.now().toISOString().slice(0, 10)}`;
  const html = markHtml(chapter.html, readerCode(watermarkKey(deps), ebookId, actor.userId));
  return {
    id: chapter.id,
    ebookId,
    title: chapter.title,
    position: chapter.position,
    // The line comes after the chapter's text, so it never moves an offset.
    html: `${html}<p class="ebook-watermark">${escapeHtml(watermark)}</p>`,
    watermark,
    textLength: chapter.textLength,
    previousChapterId: neighbours[at - 1]?.id ?? null,
    nextChapterId: neighbours[at + 1]?.id ?? null,
  };
}

/** Moves my reading position; my other devices hear `ebook:position_updated`. */
export async function setPosition(deps: Deps, actor: Actor, ebookId: string, input: { chapterId: string; offset: number }): Promise<ReadingPositionDto> {
  const now = deps.clock.now();
  const q = db(deps.orm.em.fork());
  await authorizeEbook(q, actor, ebookId, 'read');
  const chapter = await loadReadableChapter(q, ebookId, input.chapterId);
  assertWithin(chapter.textLength, 'offset', input.offset);
  const row = await q
    .insertInto('ebook_positions')
    .values({ ebook_id: ebookId, user_id: actor.userId, chapter_id: input.chapterId, offset: input.offset, updated_at: now })
    .onConflict((oc) => oc.columns(['ebook_id', 'user_id']).doUpdateSet({ chapter_id: input.chapterId, offset: input.offset, updated_at: now }))
    .returning(['chapter_id', 'offset', 'updated_at'])
    .executeTakeFirstOrThrow();
  const position = { chapterId: row.chapter_id, offset: row.offset, updatedAt: row.updated_at.toISOString() };
  await deps.events.emit('ebook.position_updated', { userId: actor.userId, position: { ebookId, ...position } });
  return position;
}
