import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
// The named export: under plain Node the default import of this CommonJS package is the module object, not the class.
import { EPub } from 'epub2';
import { CHAPTER_BODY_MAX } from '../../contracts/ebooks.ts';
import { AppError } from '../shared/errors.ts';
import { firstHeading, xhtmlToMarkdown } from './xhtmlToMarkdown.ts';

/*
 * Reading an uploaded EPUB: container.xml → the OPF package → its spine, each spine document converted to markdown
 * (xhtmlToMarkdown.ts). epub2 reads from a path, so the bytes go to a private temp directory that is removed
 * afterwards, whatever happens. Whatever is wrong with the file is the uploader's problem, reported as
 * `invalid_input`, never a crash: a broken zip, a missing package, a spine of nothing readable, a chapter too long, or
 * an archive that would inflate beyond a sane size (a zip bomb is refused from the sizes its directory declares).
 */

/** Inflated size of every entry together. */
const MAX_INFLATED_BYTES = 200 * 1024 * 1024;

export interface ParsedChapter {
  title: string;
  body: string;
}

export interface ParsedEpub {
  title: string | null;
  chapters: ParsedChapter[];
}

const refuse = (why: string) => new AppError('invalid_input', `This EPUB cannot be imported: ${why}`, { details: { fields: { assetId: why } } });

interface ZipEntries {
  admZip?: { getEntries(): { header: { size: number } }[] };
}

/** The chapters of an EPUB, in spine order, without the ones that hold no text (covers, image pages). */
export async function parseEpub(bytes: Buffer, options: { maxChapters: number }): Promise<ParsedEpub> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edulure-epub-'));
  try {
    const file = path.join(dir, `${randomUUID()}.epub`);
    await writeFile(file, bytes, { mode: 0o600 });
    let book: EPub;
    try {
      book = await EPub.createAsync(file);
    } catch {
      throw refuse('it is not a readable EPUB (zip, container.xml and package document).');
    }
    const inflated = (book.zip as unknown as ZipEntries).admZip?.getEntries().reduce((sum, entry) => sum + entry.header.size, 0) ?? 0;
    if (inflated > MAX_INFLATED_BYTES) throw refuse('it inflates to more than 200 MB.');

    const titles = new Map<string, string>();
    for (const entry of book.toc ?? []) {
      if (entry.id && entry.title && !titles.has(entry.id)) titles.set(entry.id, String(entry.title));
    }
    const chapters: ParsedChapter[] = [];
    for (const item of book.flow ?? []) {
      if (!item.id) continue;
      let xhtml: string;
      try {
        xhtml = await book.getChapterRawAsync(item.id);
      } catch {
        continue; // not an XHTML document (an image in the spine): nothing to read
      }
      const body = xhtmlToMarkdown(xhtml);
      if (!body) continue;
      if (body.length > CHAPTER_BODY_MAX) throw refuse(`a chapter is longer than ${CHAPTER_BODY_MAX} characters.`);
      const title = titles.get(item.id) ?? (typeof item.title === 'string' ? item.title : null) ?? firstHeading(xhtml) ?? `Chapter ${chapters.length + 1}`;
      chapters.push({ title: title.replace(/\s+/g, ' ').trim().slice(0, 200) || `Chapter ${chapters.length + 1}`, body });
      if (chapters.length > options.maxChapters) throw refuse(`it has more than ${options.maxChapters} chapters.`);
    }
    if (!chapters.length) throw refuse('its spine holds no chapter with text.');
    const title = typeof book.metadata?.title === 'string' ? book.metadata.title.trim() || null : null;
    return { title, chapters };
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw refuse('it could not be read.');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
