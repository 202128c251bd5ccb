import { sql } from 'kysely';
import type {
  ChapterSourceDto,
  CreateChapterInput,
  CreateEbookInput,
  EbookDetailDto,
  TocEntryDto,
  UpdateChapterInput,
  UpdateEbookInput,
} from '../../contracts/ebooks.ts';
import { EBOOK_CHAPTERS_MAX } from '../../contracts/ebooks.ts';
import { db, type Db } from '../../orm/db.ts';
import { loadCommunityAccess } from '../access/community.ts';
import { authorizeEbook, EbookPolicy, loadEbookAccess, type EbookAccess } from '../access/ebook.ts';
import { attachAssets } from '../media/assets.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import './events.ts';
import { loadEbookDetail, loadToc } from './presenters.ts';

/*
 * Writing an ebook: its metadata, its chapters (markdown), their order, and publishing. Every change to one ebook
 * takes its row lock first, so chapter positions are allocated and reordered one change at a time.
 */

const fieldError = (field: string, message: string) => new AppError('invalid_input', message, { details: { fields: { [field]: message } } });

function assertPriced(priceMinor: number, currency: string | null): void {
  if (priceMinor > 0 && currency === null) throw fieldError('currency', 'A priced ebook needs a currency.');
}

/** Runs `work` in a transaction on the ebook, locked, after checking the caller may author it. */
export async function changeEbook<T>(deps: Deps, actor: Actor, ebookId: string, work: (q: Db, access: EbookAccess, now: Date) => Promise<T>): Promise<T> {
  const now = deps.clock.now();
  return deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const access = await authorizeEbook(q, actor, ebookId, 'author', { lock: true });
    return work(q, access, now);
  });
}

/**
 * changeEbook for a change to what the catalogue and search show of the ebook (its details, its chapters or their
 * order): records `ebook.updated` in the same transaction and announces it after commit.
 */
export async function editEbook<T>(deps: Deps, actor: Actor, ebookId: string, work: (q: Db, access: EbookAccess, now: Date) => Promise<T>): Promise<T> {
  const result = await changeEbook(deps, actor, ebookId, async (q, access, now) => {
    const out = await work(q, access, now);
    await deps.events.record(q, 'ebook.updated', { ebookId });
    return out;
  });
  await deps.events.emit('ebook.updated', { ebookId });
  return result;
}

const touch = (q: Db, ebookId: string, now: Date) => q.updateTable('ebooks').set({ updated_at: now }).where('id', '=', ebookId).execute();

/** A draft; the caller owns it. */
export async function createEbook(deps: Deps, actor: Actor, input: CreateEbookInput): Promise<EbookDetailDto> {
  const now = deps.clock.now();
  return deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const community = input.communityId ? await loadCommunityAccess(q, actor.userId, input.communityId) : undefined;
    if (!EbookPolicy.create(actor, community ? community.role : undefined)) {
      throw new AppError(
        'forbidden',
        community
          ? 'Only the community’s owners and admins (and instructors who moderate it) can publish ebooks here.'
          : 'Only platform instructors and admins can write ebooks outside a community.',
      );
    }
    if (input.coverAssetId) await attachAssets(deps, q, { ownerId: actor.userId, assetIds: [input.coverAssetId], kinds: ['image'], at: now });
    const id = crypto.randomUUID();
    await q
      .insertInto('ebooks')
      .values({
        id,
        community_id: input.communityId ?? null,
        owner_id: actor.userId,
        title: input.title,
        author: input.author,
        description: input.description,
        price_minor: input.priceMinor,
        currency: input.currency ?? null,
        cover_asset_id: input.coverAssetId ?? null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return loadEbookDetail(q, actor, (await loadEbookAccess(q, actor.userId, id))!);
  });
}

export async function updateEbook(deps: Deps, actor: Actor, ebookId: string, input: UpdateEbookInput): Promise<EbookDetailDto> {
  return editEbook(deps, actor, ebookId, async (q, access, now) => {
    const priceMinor = input.priceMinor ?? access.ebook.price_minor;
    const currency = input.currency === undefined ? access.ebook.currency : input.currency;
    assertPriced(priceMinor, currency);
    if (input.coverAssetId) await attachAssets(deps, q, { ownerId: actor.userId, assetIds: [input.coverAssetId], kinds: ['image'], at: now });
    await q
      .updateTable('ebooks')
      .set({
        title: input.title,
        author: input.author,
        description: input.description,
        price_minor: input.priceMinor,
        currency: input.currency,
        cover_asset_id: input.coverAssetId,
        updated_at: now,
      })
      .where('id', '=', ebookId)
      .execute();
    return loadEbookDetail(q, actor, (await loadEbookAccess(q, actor.userId, ebookId))!);
  });
}

/** Shows the ebook in the catalogue. It needs at least one chapter; publishing again changes nothing. */
export async function publishEbook(deps: Deps, actor: Actor, ebookId: string): Promise<EbookDetailDto> {
  const { dto, changed, communityId } = await changeEbook(deps, actor, ebookId, async (q, access, now) => {
    const changed = access.ebook.status !== 'published';
    if (changed) {
      const { n } = await q
        .selectFrom('ebook_chapters')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('ebook_id', '=', ebookId)
        .executeTakeFirstOrThrow();
      if (!n) throw new AppError('conflict', 'Add at least one chapter before publishing.');
      await q
        .updateTable('ebooks')
        .set((eb) => ({ status: 'published', published_at: eb.fn.coalesce('published_at', eb.val(now)), updated_at: now }))
        .where('id', '=', ebookId)
        .execute();
      await deps.events.record(q, 'ebook.published', { ebookId, communityId: access.ebook.community_id });
    }
    return { dto: await loadEbookDetail(q, actor, (await loadEbookAccess(q, actor.userId, ebookId))!), changed, communityId: access.ebook.community_id };
  });
  if (changed) await deps.events.emit('ebook.published', { ebookId, communityId });
  return dto;
}

/** Takes the ebook out of the catalogue; readers who hold it keep reading. */
export async function unpublishEbook(deps: Deps, actor: Actor, ebookId: string): Promise<EbookDetailDto> {
  const { dto, changed, communityId } = await changeEbook(deps, actor, ebookId, async (q, access, now) => {
    const changed = access.ebook.status === 'published';
    if (changed) {
      await q.updateTable('ebooks').set({ status: 'unpublished', updated_at: now }).where('id', '=', ebookId).execute();
      await deps.events.record(q, 'ebook.unpublished', { ebookId, communityId: access.ebook.community_id });
    }
    return { dto: await loadEbookDetail(q, actor, (await loadEbookAccess(q, actor.userId, ebookId))!), changed, communityId: access.ebook.community_id };
  });
  if (changed) await deps.events.emit('ebook.unpublished', { ebookId, communityId });
  return dto;
}

async function loadChapterSource(q: Db, ebookId: string, chapterId: string): Promise<ChapterSourceDto> {
  const row = await q.selectFrom('ebook_chapters').selectAll().where('id', '=', chapterId).where('ebook_id', '=', ebookId).executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such chapter in this ebook.');
  return { id: row.id, ebookId: row.ebook_id, title: row.title, body: row.body, position: row.position, updatedAt: row.updated_at.toISOString() };
}

/**
 * Appends chapters after the last one, in one statement; the caller holds the ebook's lock. Refuses to go past
 * EBOOK_CHAPTERS_MAX.
 */
export async function appendChapters(q: Db, ebookId: string, chapters: readonly { title: string; body: string }[], now: Date): Promise<TocEntryDto[]> {
  const { last, n } = await q
    .selectFrom('ebook_chapters')
    .select([sql<number>`coalesce(max(position), -1)::int`.as('last'), sql<number>`count(*)::int`.as('n')])
    .where('ebook_id', '=', ebookId)
    .executeTakeFirstOrThrow();
  if (n + chapters.length > EBOOK_CHAPTERS_MAX) throw new AppError('conflict', `An ebook holds at most ${EBOOK_CHAPTERS_MAX} chapters.`);
  const rows = chapters.map((c, i) => ({
    id: crypto.randomUUID(),
    ebook_id: ebookId,
    title: c.title,
    body: c.body,
    position: last + 1 + i,
    created_at: now,
    updated_at: now,
  }));
  if (rows.length) await q.insertInto('ebook_chapters').values(rows).execute();
  return rows.map((r) => ({ id: r.id, title: r.title, position: r.position }));
}

export async function addChapter(deps: Deps, actor: Actor, ebookId: string, input: CreateChapterInput): Promise<ChapterSourceDto> {
  return editEbook(deps, actor, ebookId, async (q, _access, now) => {
    const [added] = await appendChapters(q, ebookId, [input], now);
    await touch(q, ebookId, now);
    return loadChapterSource(q, ebookId, added!.id);
  });
}

/** The markdown source of a chapter, for its authors' editor. */
export async function getChapterSource(deps: Deps, actor: Actor, ebookId: string, chapterId: string): Promise<ChapterSourceDto> {
  const q = db(deps.orm.em.fork());
  await authorizeEbook(q, actor, ebookId, 'author');
  return loadChapterSource(q, ebookId, chapterId);
}

export async function updateChapter(deps: Deps, actor: Actor, ebookId: string, chapterId: string, input: UpdateChapterInput): Promise<ChapterSourceDto> {
  return editEbook(deps, actor, ebookId, async (q, _access, now) => {
    const updated = await q
      .updateTable('ebook_chapters')
      .set({ title: input.title, body: input.body, updated_at: now })
      .where('id', '=', chapterId)
      .where('ebook_id', '=', ebookId)
      .returning('id')
      .executeTakeFirst();
    if (!updated) throw new AppError('not_found', 'No such chapter in this ebook.');
    await touch(q, ebookId, now);
    return loadChapterSource(q, ebookId, chapterId);
  });
}

/** Removes a chapter (with every reader's highlights, bookmarks and positions in it); a published ebook keeps one. */
export async function deleteChapter(deps: Deps, actor: Actor, ebookId: string, chapterId: string): Promise<TocEntryDto[]> {
  return editEbook(deps, actor, ebookId, async (q, access, now) => {
    const toc = await loadToc(q, ebookId);
    if (!toc.some((c) => c.id === chapterId)) throw new AppError('not_found', 'No such chapter in this ebook.');
    if (toc.length === 1 && access.ebook.status === 'published') {
      throw new AppError('conflict', 'A published ebook keeps at least one chapter: unpublish it first, or add another chapter.');
    }
    await q.deleteFrom('ebook_chapters').where('id', '=', chapterId).where('ebook_id', '=', ebookId).execute();
    await touch(q, ebookId, now);
    return loadToc(q, ebookId);
  });
}

/** Puts the chapters in the given order; the list must name every chapter of the ebook once. */
export async function reorderChapters(deps: Deps, actor: Actor, ebookId: string, chapterIds: readonly string[]): Promise<TocEntryDto[]> {
  return editEbook(deps, actor, ebookId, async (q, _access, now) => {
    const current = new Set((await loadToc(q, ebookId)).map((c) => c.id));
    if (current.size !== chapterIds.length || chapterIds.some((id) => !current.has(id))) {
      throw fieldError('chapterIds', `List every chapter of this ebook once (it has ${current.size}).`);
    }
    await sql`
      update ebook_chapters c set position = o.ord - 1
      from unnest(${chapterIds}::uuid[]) with ordinality as o(id, ord)
      where c.id = o.id and c.ebook_id = ${ebookId}`.execute(q);
    await touch(q, ebookId, now);
    return loadToc(q, ebookId);
  });
}
