import { error, json } from '@sveltejs/kit';
import type { ErrorResponse } from '$contracts/errors.ts';
import { apiRequest, type ApiRequestOptions } from '$lib/server/api.ts';
import { allowedApiCall, forwardedQuery } from '$lib/server/apiPassThrough.ts';
import type { RequestHandler } from './$types';

const NO_STORE = { 'cache-control': 'no-store' };
const MAX_BODY_BYTES = 64 * 1024;

type Method = NonNullable<ApiRequestOptions['method']>;

/**
 * The feed, profile and moderation stores in the browser call the REST API through here, with the session's access
 * token added on this side so page script never holds it. Only the calls those stores make are let through.
 */
async function passThrough(event: Parameters<RequestHandler>[0], method: Method): Promise<Response> {
  const path = event.params.path;
  if (!allowedApiCall(method, path)) error(404, 'Not found');

  let body: unknown;
  if (method !== 'GET') {
    // Browsers send Origin with every POST, PATCH and DELETE: another site's page cannot act with this session.
    if (event.request.headers.get('origin') !== event.url.origin) {
      return json({ error: { code: 'forbidden', message: 'Cross-site request refused.' } } satisfies ErrorResponse, { status: 403 });
    }
    const text = await event.request.text();
    if (text.length > MAX_BODY_BYTES) {
      return json({ error: { code: 'payload_too_large', message: 'That is too long.' } } satisfies ErrorResponse, { status: 413 });
    }
    if (text) {
      const type = event.request.headers.get('content-type') ?? '';
      if (!type.startsWith('application/json')) {
        return json({ error: { code: 'invalid_input', message: 'Send JSON.' } } satisfies ErrorResponse, { status: 415 });
      }
      try {
        body = JSON.parse(text);
      } catch {
        return json({ error: { code: 'invalid_input', message: 'The request body is not JSON.' } } satisfies ErrorResponse, {
          status: 400,
        });
      }
    }
  }
  const query = method === 'GET' ? forwardedQuery(event.url.searchParams) : '';
  const result = await apiRequest<unknown>(event, `/api/v1/${path}${query}`, { method, body, token: event.locals.accessToken });
  if (!result.ok) return json({ error: result.error } satisfies ErrorResponse, { status: result.status, headers: NO_STORE });
  if (result.data === undefined) return new Response(null, { status: 204, headers: NO_STORE });
  return json(result.data, { status: result.status, headers: NO_STORE });
}

export const GET: RequestHandler = (event) => passThrough(event, 'GET');
export const POST: RequestHandler = (event) => passThrough(event, 'POST');
export const PATCH: RequestHandler = (event) => passThrough(event, 'PATCH');
export const DELETE: RequestHandler = (event) => passThrough(event, 'DELETE');
