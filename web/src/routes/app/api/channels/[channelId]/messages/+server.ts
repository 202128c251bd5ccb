import { json } from '@sveltejs/kit';
import type { MessagePage } from '$contracts/chat.ts';
import type { ErrorResponse } from '$contracts/errors.ts';
import { apiRequest } from '$lib/server/api.ts';
import { uuidParam } from '$lib/server/load.ts';
import type { RequestHandler } from './$types';

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * Message history for the chat state in the browser (catch-up pages, older pages), fetched with the session's access
 * token so the token never has to live in page script.
 */
export const GET: RequestHandler = async (event) => {
  const channelId = uuidParam(event.params.channelId);
  const query = new URLSearchParams();
  for (const key of ['afterSeq', 'beforeSeq', 'limit']) {
    const value = event.url.searchParams.get(key);
    if (value !== null && /^\d{1,10}$/.test(value)) query.set(key, value);
  }
  const result = await apiRequest<MessagePage>(event, `/api/v1/channels/${channelId}/messages?${query}`, { token: event.locals.accessToken });
  if (!result.ok) return json({ error: result.error } satisfies ErrorResponse, { status: result.status, headers: NO_STORE });
  return json(result.data, { headers: NO_STORE });
};
