import type { PlatformRole } from '../../contracts/auth.ts';
import type { CourseLevel } from '../../contracts/courses.ts';
import type { SearchQuery, SearchResult, SearchType, Suggestion, SuggestQuery } from '../../contracts/search.ts';

/*
 * The explorer's search module has one writer and two readers.
 *
 * Writing. `search_documents` in PostgreSQL is the index of record: the indexer (indexer.ts) turns each searchable
 * item (published course or ebook, live community, class, person, visible post) into one row, from the domain
 * events recorded in the transaction that changed it. A Meilisearch index, when configured, is fed the same rows
 * right after they are written, and rebuilt from them by the reindex.
 *
 * Reading. `SearchBackend` answers queries for one viewer. Visibility is never taken from the client: the PostgreSQL
 * backend joins each row to its source through the access predicates of domain/access; the Meilisearch backend adds
 * filters built on the server from the viewer's memberships and blocks, and re-checks its hits against PostgreSQL.
 */

/** One searchable item as both engines index it. */
export interface SearchDocument {
  type: SearchType;
  id: string;
  /** The community it belongs to (the community itself for a community document); null for platform-wide items. */
  communityId: string | null;
  /** `public` / `private` for items in a community (Meilisearch filters on it); null otherwise. */
  communityVisibility: 'public' | 'private' | null;
  /** The person behind it (a post's author, the person of a person document): blocks hide it. */
  authorId: string | null;
  title: string;
  /** Weighted between title and body: tags, a course summary, an ebook's author, a person's headline. */
  keywords: string;
  body: string;
  tags: string[];
  level: CourseLevel | null;
  /** Minor units; null for kinds that are not sold. */
  priceMinor: number | null;
  currency: string | null;
  /** Members, enrolments, claims, registrations, followers or reactions: a ranking signal. */
  popularity: number;
  publishedAt: Date;
}

/** A document's identity in every engine. */
export interface DocumentRef {
  type: SearchType;
  id: string;
}

/**
 * Who is searching (an `Actor`, spelled out so that this module, which `Deps` names, imports nothing from it); signed
 * out is null.
 */
export type Viewer = { userId: string; sessionId: string; role: PlatformRole } | null;

export interface SearchBackend {
  readonly engine: 'postgres' | 'meilisearch';
  search(viewer: Viewer, query: SearchQuery): Promise<SearchResult>;
  suggest(viewer: Viewer, query: SuggestQuery): Promise<Suggestion[]>;
}

/** An external engine's writing side (Meilisearch): fed after PostgreSQL, rebuilt from it. */
export interface ExternalIndex {
  /** Applies the index settings and waits for them (at start-up). */
  prepare(): Promise<void>;
  upsert(documents: readonly SearchDocument[]): Promise<void>;
  remove(refs: readonly DocumentRef[]): Promise<void>;
  /** Builds a fresh index from `batches`, then swaps it in for the live one (no moment without an index). */
  rebuild(batches: AsyncIterable<readonly SearchDocument[]>, onProgress?: (done: number) => void): Promise<void>;
  /** Whether the engine answered its last health check. */
  healthy(): Promise<boolean>;
}

export interface SearchOptions {
  /** Only documents first indexed after this moment (saved-search alerts)… */
  newSince?: Date;
  /** …and not after this one (the end of the alert's window, so the next window starts exactly there). */
  newUntil?: Date;
}

export interface SearchIndexer {
  /** Reads `refs` as they are now and writes the index (PostgreSQL, then the external engine if any). */
  sync(refs: readonly DocumentRef[]): Promise<void>;
  /** Rebuilds every index from the source tables; `onProgress(done, total)`. */
  reindex(onProgress?: (done: number, total: number) => void): Promise<{ documents: number; removed: number }>;
}

/** The search module as the rest of the product sees it (`deps.search`, built by service.ts). */
export interface SearchService {
  search(viewer: Viewer, query: SearchQuery): Promise<SearchResult>;
  suggest(viewer: Viewer, query: SuggestQuery): Promise<Suggestion[]>;
  /** PostgreSQL only, for internal sweeps (saved-search alerts): results first indexed after `options.newSince`. */
  searchIndexOfRecord(viewer: Viewer, query: SearchQuery, options?: SearchOptions): Promise<SearchResult>;
  indexer: SearchIndexer;
  /** Null: PostgreSQL only. */
  external: { backend: SearchBackend; index: ExternalIndex } | null;
  /** For /health/ready: resolves when search answers from its configured engine, throws when it falls back. */
  check(): Promise<void>;
  /** How many queries fell back to PostgreSQL since start (for /metrics). */
  fallbacks(): number;
}

/** The document's page in the web app. */
export function documentUrl(doc: Pick<SearchDocument, 'type' | 'id' | 'communityId'>): string {
  switch (doc.type) {
    case 'course':
      return `/app/courses/${doc.id}`;
    case 'ebook':
      return `/app/ebooks/${doc.id}`;
    case 'community':
      return `/app/c/${doc.id}`;
    case 'classroom':
      return `/app/classes/${doc.id}`;
    case 'person':
      return `/app/people/${doc.id}`;
    case 'post':
      return `/app/c/${doc.communityId}/feed/${doc.id}`;
  }
}
