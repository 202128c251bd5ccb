import { RecentSearches, SearchQuery, SearchResult, SuggestQuery, SuggestResult } from '../../contracts/search.ts';
import { clearRecentSearches, explore, recentSearches, suggest } from '../../domain/search/explorer.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf, viewerOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

const tags = ['search'];

/** The explorer: one search over courses, ebooks, communities, classes, people and posts, with what each viewer may see. */
export function searchRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/search',
      summary: 'Search everything I may see, with facet counts (signed-out visitors: courses, ebooks, public communities and classes)',
      tags,
      auth: 'optional',
      query: SearchQuery,
      responses: { 200: { description: 'Hits, facets, total and the next page', schema: SearchResult } },
    },
    (ctx, { query }) => explore(deps, viewerOf(ctx), query),
  );

  route(
    {
      method: 'get',
      path: '/search/suggest',
      summary: 'Suggestions as you type: titles starting with the words typed (typos tolerated)',
      tags,
      auth: 'optional',
      query: SuggestQuery,
      responses: { 200: { description: 'Best first', schema: SuggestResult } },
    },
    async (ctx, { query }) => ({ data: await suggest(deps, viewerOf(ctx), query) }),
  );

  route(
    {
      method: 'get',
      path: '/search/recent',
      summary: 'My recent searches, newest first',
      tags,
      auth: true,
      responses: { 200: { description: 'Recent searches', schema: RecentSearches } },
    },
    async (ctx) => ({ data: await recentSearches(deps, actorOf(ctx)) }),
  );

  route(
    {
      method: 'delete',
      path: '/search/recent',
      summary: 'Forget my recent searches',
      tags,
      auth: true,
      responses: { 204: { description: 'Forgotten' } },
    },
    async (ctx) => {
      await clearRecentSearches(deps, actorOf(ctx));
    },
  );
}
