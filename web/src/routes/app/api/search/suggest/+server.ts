import { forwardSearch, SUGGEST_KEYS } from '$lib/server/search.ts';
import type { RequestHandler } from './$types';

/** Suggestions as the shell's search box is typed in. */
export const GET: RequestHandler = (event) => forwardSearch(event, 'search/suggest', SUGGEST_KEYS);
