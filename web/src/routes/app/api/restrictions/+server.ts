import { json } from '@sveltejs/kit';
import type { ErrorResponse } from '$contracts/errors.ts';
import type { RestrictionList } from '$contracts/moderation.ts';
import { apiRequest } from '$lib/server/api.ts';
import type { RequestHandler } from './$types';

/** My running timeouts and bans, for the moderation notices every app page keeps (they survive a reload this way). */
export const GET: RequestHandler = async (event) => {
  const result = await apiRequest<RestrictionList>(event, '/api/v1/me/restrictions', { token: event.locals.accessToken });
  const headers = { 'cache-control': 'no-store' };
  if (!result.ok) return json({ error: result.error } satisfies ErrorResponse, { status: result.status, headers });
  return json(result.data, { headers });
};
