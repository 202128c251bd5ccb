import { forwardSearch, MESSAGE_SEARCH_KEYS } from '$lib/server/search.ts';
import type { RequestHandler } from './$types';

/** Message search in a community's chat: the messages I can read, newest first. */
export const GET: RequestHandler = (event) => forwardSearch(event, 'search/messages', MESSAGE_SEARCH_KEYS);
