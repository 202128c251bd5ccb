import { fail } from '@sveltejs/kit';
import type { SearchHit, SearchResult, Suggestion } from '$contracts/search.ts';
import { generalMessage } from '$lib/forms.ts';
import { apiSearchQuery, filtersFromUrl, isBlank } from '$lib/search.ts';
import { apiRequest } from '$lib/server/api.ts';
import { dataOrError } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

const PAGE_SIZE = 20;
/** `RecentSearches` of the contract. */
type Recent = { q: string; searchedAt: string }[];

/**
 * The explorer's results page. Everything it shows comes from the address (words, kind, facets, order, page), so a
 * link or back and forward give the same page. With no words and no filters it shows the reader's recent searches and
 * what is popular instead.
 */
export const load: PageServerLoad = async (event) => {
  const token = event.locals.accessToken;
  const filters = filtersFromUrl(event.url.searchParams);
  const cursor = event.url.searchParams.get('cursor');

  if (isBlank(filters)) {
    const [recent, popular] = await Promise.all([
      apiRequest<{ data: Recent }>(event, '/api/v1/search/recent', { token }),
      apiRequest<SearchResult>(event, '/api/v1/search?sort=popular&limit=6', { token }),
    ]);
    return {
      filters,
      result: null,
      paged: false,
      recent: recent.ok ? recent.data.data.slice(0, 8) : [],
      popular: popular.ok ? popular.data.hits : ([] as SearchHit[]),
      didYouMean: [] as Suggestion[],
    };
  }

  const result = dataOrError(await apiRequest<SearchResult>(event, `/api/v1/search?${apiSearchQuery(filters, { cursor, limit: PAGE_SIZE })}`, { token }));
  // Nothing found for some words: the suggestions tolerate typos, so they often know what was meant.
  let didYouMean: Suggestion[] = [];
  if (result.total === 0 && filters.q && !cursor) {
    const suggested = await apiRequest<{ data: Suggestion[] }>(event, `/api/v1/search/suggest?${new URLSearchParams({ q: filters.q.slice(0, 100), limit: '5' })}`, { token });
    if (suggested.ok) didYouMean = suggested.data.data;
  }
  return { filters, result, paged: Boolean(cursor), recent: [] as Recent, popular: [] as SearchHit[], didYouMean };
};

export const actions: Actions = {
  clearRecent: async (event) => {
    const result = await apiRequest<void>(event, '/api/v1/search/recent', { method: 'DELETE', token: event.locals.accessToken });
    if (!result.ok) return fail(result.status, { clearRecent: { message: generalMessage(result.error) } });
    return { clearRecent: { message: null } };
  },
};
