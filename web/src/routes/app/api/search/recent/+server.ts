import { forwardSearch } from '$lib/server/search.ts';
import type { RequestHandler } from './$types';

/** My recent searches, for the shell's search box when it is empty (forgetting them is a form action of /app/search). */
export const GET: RequestHandler = (event) => forwardSearch(event, 'search/recent', []);
