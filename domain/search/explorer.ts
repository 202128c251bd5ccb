import type { SearchQuery, SearchResult, Suggestion, SuggestQuery } from '../../contracts/search.ts';
import { db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import type { Viewer } from './backend.ts';

/** How many recent searches each person keeps. */
export const RECENT_SEARCHES = 10;

/**
 * One search for a viewer. A signed-in person's first page of a typed query is remembered among their recent
 * searches (the newest `RECENT_SEARCHES`, each query once).
 */
export async function explore(deps: Deps, viewer: Viewer, query: SearchQuery): Promise<SearchResult> {
  const result = await deps.search.search(viewer, query);
  if (viewer && query.q && !query.cursor) await rememberSearch(deps, viewer, query.q);
  return result;
}

export function suggest(deps: Deps, viewer: Viewer, query: SuggestQuery): Promise<Suggestion[]> {
  return deps.search.suggest(viewer, query);
}

async function rememberSearch(deps: Deps, actor: Actor, text: string): Promise<void> {
  const query = text.replace(/\s+/g, ' ').slice(0, 200);
  await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    await q
      .insertInto('search_history')
      .values({ user_id: actor.userId, query, searched_at: deps.clock.now() })
      .onConflict((oc) => oc.columns(['user_id', 'query']).doUpdateSet({ searched_at: deps.clock.now() }))
      .execute();
    await q
      .deleteFrom('search_history')
      .where('user_id', '=', actor.userId)
      .where(
        'query',
        'not in',
        q.selectFrom('search_history').select('query').where('user_id', '=', actor.userId).orderBy('searched_at', 'desc').limit(RECENT_SEARCHES),
      )
      .execute();
  });
}

export async function recentSearches(deps: Deps, actor: Actor): Promise<{ q: string; searchedAt: string }[]> {
  const rows = await db(deps.orm.em.fork())
    .selectFrom('search_history')
    .select(['query', 'searched_at'])
    .where('user_id', '=', actor.userId)
    .orderBy('searched_at', 'desc')
    .limit(RECENT_SEARCHES)
    .execute();
  return rows.map((r) => ({ q: r.query, searchedAt: r.searched_at.toISOString() }));
}

export async function clearRecentSearches(deps: Deps, actor: Actor): Promise<void> {
  await db(deps.orm.em.fork()).deleteFrom('search_history').where('user_id', '=', actor.userId).execute();
}
