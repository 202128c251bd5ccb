import { json } from '@sveltejs/kit';
import type { ErrorResponse } from '$contracts/errors.ts';
import { apiRequest, type ApiCaller } from './api.ts';

/** The query parameters each search route of the API takes; the browser's narrow routes forward these and no others. */
export const SEARCH_KEYS = ['q', 'types', 'level', 'priceMax', 'free', 'tag', 'communityId', 'sort', 'cursor', 'limit'] as const;
export const SUGGEST_KEYS = ['q', 'limit'] as const;
export const MESSAGE_SEARCH_KEYS = ['q', 'communityId', 'limit'] as const;

/**
 * A search call from the browser (`/app/api/search/...`, the shell's suggestions, "Load more", the chat's message
 * search) made with the session's token on this side: only the listed parameters go on, each at most 300 characters.
 */
export async function forwardSearch(
  event: ApiCaller & { url: URL; locals: App.Locals },
  apiPath: string,
  keys: readonly string[],
): Promise<Response> {
  const query = new URLSearchParams();
  for (const key of keys) {
    const value = event.url.searchParams.get(key);
    if (value !== null && value.length <= 300) query.set(key, value);
  }
  const text = query.toString();
  const result = await apiRequest<unknown>(event, `/api/v1/${apiPath}${text ? `?${text}` : ''}`, { token: event.locals.accessToken });
  const headers = { 'cache-control': 'no-store' };
  if (!result.ok) return json({ error: result.error } satisfies ErrorResponse, { status: result.status, headers });
  return json(result.data, { headers });
}
