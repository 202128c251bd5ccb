import { json } from '@sveltejs/kit';
import type { MessageList } from '$contracts/chat.ts';
import type { ErrorResponse } from '$contracts/errors.ts';
import { apiRequest } from '$lib/server/api.ts';
import { uuidParam } from '$lib/server/load.ts';
import type { RequestHandler } from './$types';

/** A thread (root first) for the thread panel. */
export const GET: RequestHandler = async (event) => {
  const messageId = uuidParam(event.params.messageId);
  const result = await apiRequest<MessageList>(event, `/api/v1/messages/${messageId}/thread`, { token: event.locals.accessToken });
  const headers = { 'cache-control': 'no-store' };
  if (!result.ok) return json({ error: result.error } satisfies ErrorResponse, { status: result.status, headers });
  return json(result.data, { headers });
};
