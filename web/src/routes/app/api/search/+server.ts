import { forwardSearch, SEARCH_KEYS } from '$lib/server/search.ts';
import type { RequestHandler } from './$types';

/** The explorer's next page ("Load more" on the results page). */
export const GET: RequestHandler = (event) => forwardSearch(event, 'search', SEARCH_KEYS);
