import type { SearchQuery, SearchResult, Suggestion, SuggestQuery } from '../../contracts/search.ts';
import { db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import type { ExternalIndex, SearchBackend, Viewer } from './backend.ts';
import { createSearchIndexer, type SearchIndexer } from './indexer.ts';
import { createPostgresSearch, searchDocuments, type SearchOptions } from './postgres.ts';

/*
 * The search module as the rest of the product sees it (`deps.search`): queries answered by Meilisearch when it is
 * configured and answering, by PostgreSQL otherwise. A Meilisearch error is logged and counted, the same query is
 * answered by PostgreSQL, and the readiness check reports search as degraded until Meilisearch answers again.
 */

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

export function createSearchService(
  deps: Pick<Deps, 'orm' | 'clock' | 'logger'>,
  external: { backend: SearchBackend; index: ExternalIndex } | null,
): SearchService {
  const postgres = createPostgresSearch(deps);
  let fallbackCount = 0;
  let lastError: string | null = null;

  async function withFallback<T>(run: (backend: SearchBackend) => Promise<T>): Promise<T> {
    if (!external) return run(postgres);
    try {
      const result = await run(external.backend);
      lastError = null;
      return result;
    } catch (err) {
      fallbackCount += 1;
      lastError = err instanceof Error ? err.message : String(err);
      deps.logger.warn({ err: lastError }, 'Meilisearch failed; answering from PostgreSQL');
      return run(postgres);
    }
  }

  return {
    search: (viewer, query) => withFallback((backend) => backend.search(viewer, query)),
    suggest: (viewer, query) => withFallback((backend) => backend.suggest(viewer, query)),
    searchIndexOfRecord: (viewer, query, options) => searchDocuments(db(deps.orm.em.fork()), viewer, query, deps.clock.now(), options),
    indexer: createSearchIndexer(deps, external?.index ?? null),
    external,
    async check() {
      if (!external) return;
      if (!(await external.index.healthy())) throw new Error('Meilisearch is not answering; search falls back to PostgreSQL');
      if (lastError) throw new Error(`Meilisearch failed the last query (${lastError}); search falls back to PostgreSQL`);
    },
    fallbacks: () => fallbackCount,
  };
}
