import type { ImportResultDto } from '../../contracts/ebooks.ts';
import { EBOOK_CHAPTERS_MAX } from '../../contracts/ebooks.ts';
import { loadEbookAccess } from '../access/ebook.ts';
import { attachAssets, readAssetBytes } from '../media/assets.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { appendChapters, editEbook } from './authoring.ts';
import { parseEpub } from './epub.ts';
import { loadEbookDetail } from './presenters.ts';

/** The largest EPUB an import reads. */
export const EPUB_IMPORT_MAX_BYTES = 50 * 1024 * 1024;

/**
 * Appends the chapters of an uploaded EPUB, all or none: the asset is checked (mine, ready, an EPUB) and marked
 * attached, read, parsed and its chapters inserted in ONE transaction, so a file that turns out to be malformed
 * leaves neither a chapter nor an attached asset behind (nor a recorded `ebook.updated`).
 */
export async function importEpub(deps: Deps, actor: Actor, ebookId: string, assetId: string): Promise<ImportResultDto> {
  return editEbook(deps, actor, ebookId, async (q, _access, now) => {
    await attachAssets(deps, q, { ownerId: actor.userId, assetIds: [assetId], kinds: ['epub'], at: now });
    const { bytes } = await readAssetBytes(deps, assetId, EPUB_IMPORT_MAX_BYTES).catch((err: unknown) => {
      if (err instanceof AppError && err.code !== 'unavailable') {
        throw new AppError('invalid_input', `This EPUB cannot be imported: ${err.message}`, { details: { fields: { assetId: err.message } } });
      }
      throw err;
    });
    const parsed = await parseEpub(bytes, { maxChapters: EBOOK_CHAPTERS_MAX });
    const imported = await appendChapters(q, ebookId, parsed.chapters, now);
    await q.updateTable('ebooks').set({ updated_at: now }).where('id', '=', ebookId).execute();
    return { imported, ebook: await loadEbookDetail(q, actor, (await loadEbookAccess(q, actor.userId, ebookId))!) };
  });
}
