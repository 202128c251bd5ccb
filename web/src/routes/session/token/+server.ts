import { json } from '@sveltejs/kit';
import type { ErrorResponse } from '$contracts/errors.ts';
import type { RequestHandler } from './$types';

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * Hands the signed-in tab its current access token for the Socket.IO handshake. The hook has already refreshed the
 * pair if needed; cross-origin pages cannot read this response (no CORS headers).
 */
export const GET: RequestHandler = ({ locals }) => {
  if (!locals.accessToken) {
    const body: ErrorResponse = { error: { code: 'unauthenticated', message: 'You are not signed in.' } };
    return json(body, { status: 401, headers: NO_STORE });
  }
  return json({ accessToken: locals.accessToken }, { headers: NO_STORE });
};
