import { sql, type Selectable } from 'kysely';
import type { BookmarkDto, EbookDetailDto, EbookDto, HighlightDto, TocEntryDto } from '../../contracts/ebooks.ts';
import type { DB, Db } from '../../orm/db.ts';
import { EbookPolicy, type EbookAccess } from '../access/ebook.ts';
import type { Actor } from '../shared/deps.ts';

/*
 * Ebooks as the wire shows them. A presenter never touches a chapter body: lists, details and the table of contents
 * carry titles only, so text reaches nobody except through the reader route.
 */

const isoOrNull = (at: Date | null) => at?.toISOString() ?? null;

/** Ebooks (`e`) with their owner's name and chapter count; which ebooks is the caller's business. */
export function ebookDtoQuery(q: Db) {
  return q
    .selectFrom('ebooks as e')
    .innerJoin('users as ou', 'ou.id', 'e.owner_id')
    .selectAll('e')
    .select((eb) => [
      'ou.display_name as owner_name',
      eb
        .selectFrom('ebook_chapters as ch')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('ch.ebook_id', '=', 'e.id')
        .$asScalar()
        .as('chapter_count'),
    ]);
}

export type EbookRow = Awaited<ReturnType<ReturnType<typeof ebookDtoQuery>['executeTakeFirstOrThrow']>>;

export function presentEbook(row: EbookRow): EbookDto {
  return {
    id: row.id,
    communityId: row.community_id,
    owner: { id: row.owner_id, displayName: row.owner_name },
    title: row.title,
    author: row.author,
    description: row.description,
    priceMinor: row.price_minor,
    currency: row.currency,
    coverAssetId: row.cover_asset_id,
    status: row.status,
    publishedAt: isoOrNull(row.published_at),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    chapterCount: row.chapter_count,
  };
}

export async function loadToc(q: Db, ebookId: string): Promise<TocEntryDto[]> {
  const rows = await q
    .selectFrom('ebook_chapters')
    .select(['id', 'title', 'position'])
    .where('ebook_id', '=', ebookId)
    .orderBy('position')
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({ id: r.id, title: r.title, position: r.position }));
}

/** One ebook with its table of contents and the caller's own standing: entitlement, position, what they may do. */
export async function loadEbookDetail(q: Db, actor: Actor, access: EbookAccess): Promise<EbookDetailDto> {
  const ebookId = access.ebook.id;
  const [row, toc, entitlement, position] = await Promise.all([
    ebookDtoQuery(q).where('e.id', '=', ebookId).executeTakeFirstOrThrow(),
    loadToc(q, ebookId),
    q
      .selectFrom('entitlements')
      .select(['source', 'created_at'])
      .where('user_id', '=', actor.userId)
      .where('resource_type', '=', 'ebook')
      .where('resource_id', '=', ebookId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst(),
    q
      .selectFrom('ebook_positions')
      .select(['chapter_id', 'offset', 'updated_at'])
      .where('ebook_id', '=', ebookId)
      .where('user_id', '=', actor.userId)
      .executeTakeFirst(),
  ]);
  return {
    ...presentEbook(row),
    toc,
    myEntitlement: entitlement ? { source: entitlement.source, grantedAt: entitlement.created_at.toISOString() } : null,
    myPosition: position ? { chapterId: position.chapter_id, offset: position.offset, updatedAt: position.updated_at.toISOString() } : null,
    canAuthor: EbookPolicy.author(actor, access),
    canRead: EbookPolicy.read(actor, access),
  };
}

/** Highlights and bookmarks are presented from whole rows (`selectAll`). */
type HighlightRow = Selectable<DB['ebook_highlights']>;
type BookmarkRow = Selectable<DB['ebook_bookmarks']>;

export function presentHighlight(row: HighlightRow): HighlightDto {
  return {
    id: row.id,
    chapterId: row.chapter_id,
    start: row.start_offset,
    end: row.end_offset,
    color: row.color as HighlightDto['color'],
    note: row.note,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function presentBookmark(row: BookmarkRow): BookmarkDto {
  return { id: row.id, chapterId: row.chapter_id, offset: row.offset, label: row.label, createdAt: row.created_at.toISOString() };
}
