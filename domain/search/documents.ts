import { sql } from 'kysely';
import type { CourseLevel } from '../../contracts/courses.ts';
import type { SearchType } from '../../contracts/search.ts';
import { uuids, type Db } from '../../orm/db.ts';
import type { DocumentRef, SearchDocument } from './backend.ts';

/*
 * Searchable items as documents, read from their own tables. What is indexed is what could be shown to someone:
 * published courses and ebooks, communities that are not archived, scheduled or live classes, people who are not
 * suspended, posts that are neither hidden nor deleted. Who may see each is decided at query time (visibility.ts).
 */

const POST_TITLE_LENGTH = 120;

/** The first line of a post, cut at a word near `POST_TITLE_LENGTH`. */
export function postTitle(body: string, pollQuestion: string | null): string {
  const text = (pollQuestion ?? body).trim().split('\n')[0]!.trim();
  if (text.length <= POST_TITLE_LENGTH) return text;
  const cut = text.slice(0, POST_TITLE_LENGTH);
  const space = cut.lastIndexOf(' ');
  return `${(space > 60 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** Loads the documents of `type` among `ids` (all of them when `ids` is null), `limit` rows after `afterId`. */
async function loadOfType(
  q: Db,
  type: SearchType,
  ids: readonly string[] | null,
  page?: { afterId: string | null; limit: number },
): Promise<SearchDocument[]> {
  const idFilter = (column: string) => (ids ? sql<boolean>`${sql.ref(column)} = any(${uuids(ids)})` : sql<boolean>`true`);
  const pageFilter = (column: string) => (page?.afterId ? sql<boolean>`${sql.ref(column)} > ${page.afterId}` : sql<boolean>`true`);
  const limit = page?.limit ?? 100_000;

  switch (type) {
    case 'course': {
      const rows = await q
        .selectFrom('courses as k')
        .leftJoin('communities as c', 'c.id', 'k.community_id')
        .select((eb) => [
          'k.id',
          'k.community_id',
          'c.visibility',
          'k.owner_id',
          'k.title',
          'k.summary',
          'k.description',
          'k.tags',
          'k.level',
          'k.price_minor',
          'k.currency',
          'k.published_at',
          'k.created_at',
          eb
            .selectFrom('course_enrolments as ce')
            .select(sql<number>`count(*)::int`.as('n'))
            .whereRef('ce.course_id', '=', 'k.id')
            .as('popularity'),
        ])
        .where('k.status', '=', 'published')
        .where(idFilter('k.id'))
        .where(pageFilter('k.id'))
        .orderBy('k.id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        type,
        id: r.id,
        communityId: r.community_id,
        communityVisibility: r.visibility ?? null,
        authorId: r.owner_id,
        title: r.title,
        keywords: [r.tags.join(' '), r.summary].join(' '),
        body: r.description,
        tags: r.tags,
        level: r.level as CourseLevel,
        priceMinor: r.price_minor,
        currency: r.currency,
        popularity: r.popularity ?? 0,
        publishedAt: r.published_at ?? r.created_at,
      }));
    }
    case 'ebook': {
      const rows = await q
        .selectFrom('ebooks as e')
        .leftJoin('communities as c', 'c.id', 'e.community_id')
        .select((eb) => [
          'e.id',
          'e.community_id',
          'c.visibility',
          'e.owner_id',
          'e.title',
          'e.author',
          'e.description',
          'e.price_minor',
          'e.currency',
          'e.published_at',
          'e.created_at',
          eb
            .selectFrom('entitlements as en')
            .select(sql<number>`count(*)::int`.as('n'))
            .where('en.resource_type', '=', 'ebook')
            .whereRef('en.resource_id', '=', 'e.id')
            .where('en.revoked_at', 'is', null)
            .as('popularity'),
          eb
            .selectFrom('ebook_chapters as ch')
            .select(sql<string>`coalesce(string_agg(ch.title, ' ' order by ch.position), '')`.as('t'))
            .whereRef('ch.ebook_id', '=', 'e.id')
            .as('chapters'),
        ])
        .where('e.status', '=', 'published')
        .where(idFilter('e.id'))
        .where(pageFilter('e.id'))
        .orderBy('e.id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        type,
        id: r.id,
        communityId: r.community_id,
        communityVisibility: r.visibility ?? null,
        authorId: r.owner_id,
        title: r.title,
        keywords: r.author,
        body: [r.description, r.chapters ?? ''].join('\n'),
        tags: [],
        level: null,
        priceMinor: r.price_minor,
        currency: r.currency,
        popularity: r.popularity ?? 0,
        publishedAt: r.published_at ?? r.created_at,
      }));
    }
    case 'community': {
      const rows = await q
        .selectFrom('communities as c')
        .select((eb) => [
          'c.id',
          'c.visibility',
          'c.created_by_id',
          'c.name',
          'c.slug',
          'c.description',
          'c.created_at',
          eb
            .selectFrom('community_members as m')
            .select(sql<number>`count(*)::int`.as('n'))
            .whereRef('m.community_id', '=', 'c.id')
            .as('popularity'),
        ])
        .where('c.archived_at', 'is', null)
        .where(idFilter('c.id'))
        .where(pageFilter('c.id'))
        .orderBy('c.id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        type,
        id: r.id,
        communityId: r.id,
        communityVisibility: r.visibility,
        authorId: null,
        title: r.name,
        keywords: r.slug.replaceAll('-', ' '),
        body: r.description,
        tags: [],
        level: null,
        priceMinor: null,
        currency: null,
        popularity: r.popularity ?? 0,
        publishedAt: r.created_at,
      }));
    }
    case 'classroom': {
      const rows = await q
        .selectFrom('classrooms as k')
        .innerJoin('communities as c', 'c.id', 'k.community_id')
        .innerJoin('users as h', 'h.id', 'k.host_id')
        .select((eb) => [
          'k.id',
          'k.community_id',
          'c.visibility',
          'k.host_id',
          'k.title',
          'k.description',
          'k.price_minor',
          'k.currency',
          'k.created_at',
          'h.display_name',
          eb
            .selectFrom('classroom_registrations as r')
            .select(sql<number>`count(*)::int`.as('n'))
            .whereRef('r.classroom_id', '=', 'k.id')
            .where('r.status', '=', 'registered')
            .as('popularity'),
        ])
        .where('k.status', 'in', ['scheduled', 'live'])
        .where('c.archived_at', 'is', null)
        .where(idFilter('k.id'))
        .where(pageFilter('k.id'))
        .orderBy('k.id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        type,
        id: r.id,
        communityId: r.community_id,
        communityVisibility: r.visibility,
        authorId: r.host_id,
        title: r.title,
        keywords: r.display_name,
        body: r.description,
        tags: [],
        level: null,
        priceMinor: r.price_minor,
        currency: r.currency,
        popularity: r.popularity ?? 0,
        publishedAt: r.created_at,
      }));
    }
    case 'person': {
      const rows = await q
        .selectFrom('users as u')
        .select((eb) => [
          'u.id',
          'u.display_name',
          'u.headline',
          'u.bio',
          'u.created_at',
          eb
            .selectFrom('user_follows as f')
            .select(sql<number>`count(*)::int`.as('n'))
            .whereRef('f.followee_id', '=', 'u.id')
            .as('popularity'),
        ])
        .where('u.suspended_at', 'is', null)
        .where(idFilter('u.id'))
        .where(pageFilter('u.id'))
        .orderBy('u.id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        type,
        id: r.id,
        communityId: null,
        communityVisibility: null,
        authorId: r.id,
        title: r.display_name,
        keywords: r.headline,
        body: r.bio,
        tags: [],
        level: null,
        priceMinor: null,
        currency: null,
        popularity: r.popularity ?? 0,
        publishedAt: r.created_at,
      }));
    }
    case 'post': {
      const rows = await q
        .selectFrom('posts as p')
        .innerJoin('communities as c', 'c.id', 'p.community_id')
        .select([
          'p.id',
          'p.community_id',
          'c.visibility',
          'p.author_id',
          'p.body',
          'p.poll_question',
          'p.link_url',
          'p.comment_count',
          'p.reaction_count',
          'p.created_at',
        ])
        .where('p.deleted_at', 'is', null)
        .where('p.hidden_at', 'is', null)
        .where('c.archived_at', 'is', null)
        .where(idFilter('p.id'))
        .where(pageFilter('p.id'))
        .orderBy('p.id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        type,
        id: r.id,
        communityId: r.community_id,
        communityVisibility: r.visibility,
        authorId: r.author_id,
        title: postTitle(r.body, r.poll_question),
        keywords: r.link_url ?? '',
        body: r.poll_question ? `${r.poll_question}\n${r.body}` : r.body,
        tags: [],
        level: null,
        priceMinor: null,
        currency: null,
        popularity: r.comment_count + r.reaction_count,
        publishedAt: r.created_at,
      }));
    }
  }
}

/** The current documents of `refs`, and the refs that are no longer searchable (gone, drafts, hidden…). */
export async function loadDocuments(q: Db, refs: readonly DocumentRef[]): Promise<{ documents: SearchDocument[]; gone: DocumentRef[] }> {
  const byType = new Map<SearchType, string[]>();
  for (const ref of refs) byType.set(ref.type, [...(byType.get(ref.type) ?? []), ref.id]);
  const documents: SearchDocument[] = [];
  const gone: DocumentRef[] = [];
  for (const [type, ids] of byType) {
    const found = await loadOfType(q, type, [...new Set(ids)]);
    documents.push(...found);
    const present = new Set(found.map((d) => d.id));
    for (const id of new Set(ids)) if (!present.has(id)) gone.push({ type, id });
  }
  return { documents, gone };
}

/** Every searchable item, `batchSize` at a time, kind after kind (for the reindex). */
export async function* allDocuments(q: Db, batchSize = 1000): AsyncGenerator<SearchDocument[]> {
  for (const type of ['community', 'course', 'ebook', 'classroom', 'person', 'post'] as const) {
    let afterId: string | null = null;
    for (;;) {
      const batch = await loadOfType(q, type, null, { afterId, limit: batchSize });
      if (!batch.length) break;
      yield batch;
      afterId = batch[batch.length - 1]!.id;
      if (batch.length < batchSize) break;
    }
  }
}

/** The refs of every document in a community (when its visibility or name changes, they all move). */
export async function communityDocumentRefs(q: Db, communityId: string): Promise<DocumentRef[]> {
  const rows = await q.selectFrom('search_documents').select(['type', 'source_id']).where('community_id', '=', communityId).execute();
  return rows.map((r) => ({ type: r.type as SearchType, id: r.source_id }));
}
