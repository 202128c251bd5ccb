import { sql } from 'kysely';
import { db, type Db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import type { DomainEventName, DomainEvents, EventBus } from '../shared/events.ts';
import type { DocumentRef, ExternalIndex, SearchDocument, SearchIndexer } from './backend.ts';
import { allDocuments, communityDocumentRefs, loadDocuments } from './documents.ts';

/*
 * Keeping the index fresh. Every change to something searchable records a domain event inside its transaction
 * (`deps.events.record`); the durable listeners below turn each into the refs it touches and sync them: read the
 * items as they are now, upsert what is searchable, delete what is not. Syncing reads the current state, so it is
 * idempotent and order-independent (a retry, or two events for one item in any order, end the same). PostgreSQL is
 * written first, in one transaction; an external engine is fed the same documents after it, and a failure there
 * throws, so the job is retried. A missed event is repaired by the full reindex (`npm run search:reindex`).
 */

type RefsOf<E extends DomainEventName> = (payload: DomainEvents[E], q: Db) => Promise<DocumentRef[]> | DocumentRef[];

/** Which documents each recorded event touches. */
const SOURCES: { [E in DomainEventName]?: RefsOf<E> } = {
  'community.created': ({ communityId }, q) => communityRefs(q, communityId),
  'course.published': ({ courseId }) => [{ type: 'course', id: courseId }],
  'course.unpublished': ({ courseId }) => [{ type: 'course', id: courseId }],
  'course.updated': ({ courseId }) => [{ type: 'course', id: courseId }],
  'ebook.published': ({ ebookId }) => [{ type: 'ebook', id: ebookId }],
  'ebook.unpublished': ({ ebookId }) => [{ type: 'ebook', id: ebookId }],
  'ebook.updated': ({ ebookId }) => [{ type: 'ebook', id: ebookId }],
  'classroom.scheduled': ({ classroomId }) => [{ type: 'classroom', id: classroomId }],
  'classroom.updated': ({ classroomId }) => [{ type: 'classroom', id: classroomId }],
  'classroom.cancelled': ({ classroomId }) => [{ type: 'classroom', id: classroomId }],
  'classroom.started': ({ classroomId }) => [{ type: 'classroom', id: classroomId }],
  'classroom.ended': ({ classroomId }) => [{ type: 'classroom', id: classroomId }],
  'user.registered': ({ userId }) => [{ type: 'person', id: userId }],
  'profile.updated': ({ userId }) => [{ type: 'person', id: userId }],
  'user.suspended': ({ userId }) => [{ type: 'person', id: userId }],
  'user.unsuspended': ({ userId }) => [{ type: 'person', id: userId }],
  // Post payloads carry the acting user's view of the post; the sync reads the post again by id.
  'post.created': ({ post }) => [{ type: 'post', id: post.id }],
  'post.updated': ({ post }) => [{ type: 'post', id: post.id }],
  'post.restored': ({ post }) => [{ type: 'post', id: post.id }],
  'post.hidden': ({ postId }) => [{ type: 'post', id: postId }],
  'post.deleted': ({ postId }) => [{ type: 'post', id: postId }],
};

/** A community's own document and every document in it (its name, visibility or archiving moves them all). */
export const communityRefs = async (q: Db, communityId: string): Promise<DocumentRef[]> => [
  { type: 'community', id: communityId },
  ...(await communityDocumentRefs(q, communityId)),
];

/** Upserts `documents` and deletes `gone` in the index of record. */
export async function writeDocuments(q: Db, documents: readonly SearchDocument[], gone: readonly DocumentRef[]): Promise<void> {
  for (let start = 0; start < documents.length; start += 500) {
    const batch = documents.slice(start, start + 500);
    await q
      .insertInto('search_documents')
      .values(
        batch.map((d) => ({
          type: d.type,
          source_id: d.id,
          community_id: d.communityId,
          community_visibility: d.communityVisibility,
          author_id: d.authorId,
          title: d.title,
          keywords: d.keywords,
          body: d.body,
          tags: d.tags,
          level: d.level,
          price_minor: d.priceMinor,
          currency: d.currency,
          popularity: d.popularity,
          published_at: d.publishedAt,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['type', 'source_id']).doUpdateSet((eb) => ({
          community_id: eb.ref('excluded.community_id'),
          community_visibility: eb.ref('excluded.community_visibility'),
          author_id: eb.ref('excluded.author_id'),
          title: eb.ref('excluded.title'),
          keywords: eb.ref('excluded.keywords'),
          body: eb.ref('excluded.body'),
          tags: eb.ref('excluded.tags'),
          level: eb.ref('excluded.level'),
          price_minor: eb.ref('excluded.price_minor'),
          currency: eb.ref('excluded.currency'),
          popularity: eb.ref('excluded.popularity'),
          published_at: eb.ref('excluded.published_at'),
          indexed_at: sql<Date>`now()`,
        })),
      )
      .execute();
  }
  if (gone.length) {
    await q
      .deleteFrom('search_documents')
      .where(({ eb, refTuple, tuple }) =>
        eb(
          refTuple('type', 'source_id'),
          'in',
          gone.map((g) => tuple(g.type, g.id)),
        ),
      )
      .execute();
  }
}

export function createSearchIndexer(deps: Pick<Deps, 'orm' | 'logger'>, external: ExternalIndex | null): SearchIndexer {
  return {
    async sync(refs) {
      if (!refs.length) return;
      const { documents, gone } = await deps.orm.em.fork().transactional(async (tx) => {
        const q = db(tx);
        const loaded = await loadDocuments(q, refs);
        await writeDocuments(q, loaded.documents, loaded.gone);
        return loaded;
      });
      if (external) {
        if (documents.length) await external.upsert(documents);
        if (gone.length) await external.remove(gone);
      }
    },

    async reindex(onProgress) {
      // In place, without a moment of emptiness: every searchable item is upserted (stamped with this run's start),
      // then whatever this run did not touch — items that stopped being searchable while an event was missed — is
      // deleted. Changes indexed concurrently carry a later stamp and survive.
      const q = db(deps.orm.em.fork());
      const startedAt = (await sql<{ now: Date }>`select clock_timestamp() as now`.execute(q)).rows[0]!.now;
      const total = await countSearchable(q);
      let done = 0;
      for await (const batch of allDocuments(q)) {
        await writeDocuments(q, batch, []);
        done += batch.length;
        onProgress?.(done, total);
      }
      const removed = await q.deleteFrom('search_documents').where('indexed_at', '<', startedAt).where('first_indexed_at', '<', startedAt).executeTakeFirst();
      if (external) {
        await external.rebuild(
          (async function* (): AsyncGenerator<SearchDocument[]> {
            const reader = db(deps.orm.em.fork());
            let after: { type: string; id: string } | null = null;
            for (;;) {
              const rows = await readIndexPage(reader, after);
              if (!rows.length) return;
              yield rows.map(rowToDocument);
              const last = rows[rows.length - 1]!;
              after = { type: last.type, id: last.source_id };
            }
          })(),
        );
      }
      return { documents: done, removed: Number(removed.numDeletedRows) };
    },
  };
}

/** A page of the index of record in key order, after `after` (for rebuilding an external engine). */
function readIndexPage(reader: Db, after: { type: string; id: string } | null) {
  return reader
    .selectFrom('search_documents')
    .selectAll()
    .$if(after !== null, (qb) => qb.where(sql<boolean>`(type, source_id) > (${after!.type}::text, ${after!.id}::uuid)`))
    .orderBy('type')
    .orderBy('source_id')
    .limit(1000)
    .execute();
}

function rowToDocument(row: {
  type: string;
  source_id: string;
  community_id: string | null;
  community_visibility: string | null;
  author_id: string | null;
  title: string;
  keywords: string;
  body: string;
  tags: string[];
  level: string | null;
  price_minor: number | null;
  currency: string | null;
  popularity: number;
  published_at: Date;
}): SearchDocument {
  return {
    type: row.type as SearchDocument['type'],
    id: row.source_id,
    communityId: row.community_id,
    communityVisibility: row.community_visibility as SearchDocument['communityVisibility'],
    authorId: row.author_id,
    title: row.title,
    keywords: row.keywords,
    body: row.body,
    tags: row.tags,
    level: row.level as SearchDocument['level'],
    priceMinor: row.price_minor,
    currency: row.currency,
    popularity: row.popularity,
    publishedAt: row.published_at,
  };
}

async function countSearchable(q: Db): Promise<number> {
  const row = await sql<{ n: number }>`
    select (select count(*) from courses where status = 'published')
         + (select count(*) from ebooks where status = 'published')
         + (select count(*) from communities where archived_at is null)
         + (select count(*) from classrooms k join communities c on c.id = k.community_id
              where k.status in ('scheduled', 'live') and c.archived_at is null)
         + (select count(*) from users where suspended_at is null)
         + (select count(*) from posts p join communities c on c.id = p.community_id
              where p.deleted_at is null and p.hidden_at is null and c.archived_at is null) as n`.execute(q);
  return Number(row.rows[0]!.n);
}

/** Registers one durable listener per recorded event that touches the index (in composition, once). */
export function registerSearchIndexing(bus: EventBus, deps: Pick<Deps, 'orm'>, indexer: SearchIndexer): void {
  for (const [event, refsOf] of Object.entries(SOURCES) as [DomainEventName, RefsOf<DomainEventName>][]) {
    bus.onDurable(event, 'indexSearch', async (payload) => {
      const refs = await refsOf(payload, db(deps.orm.em.fork()));
      await indexer.sync(refs);
    });
  }
}
