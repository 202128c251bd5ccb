import { db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { ExternalIndex, SearchBackend, SearchService } from './backend.ts';
import { createSearchIndexer } from './indexer.ts';
import { createPostgresSearch, searchDocuments } from './postgres.ts';

export type { SearchService };

/*
 * The search module as the rest of the product sees it (`deps.search`): queries answered by Meilisearch when it is
 * configured and answering, by PostgreSQL otherwise. A Meilisearch error is logged and counted, the same query is
 * answered by PostgreSQL, and the readiness check reports search as degraded until Meilisearch answers again.
 */

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
      // A refusal of the query itself (a bad cursor) is the caller's to hear, not an engine failure.
      if (err instanceof AppError && err.code !== 'unavailable' && err.code !== 'internal') throw err;
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
