import { json } from '@sveltejs/kit';
import type { ErrorResponse } from '$contracts/errors.ts';
import { PushSubscriptionInput, RemovePushSubscriptionInput, type PushSubscriptionDto, type VapidKeyDto } from '$contracts/notifications.ts';
import { apiRequest, type ApiResult } from '$lib/server/api.ts';
import type { RequestEvent, RequestHandler } from './$types';

const NO_STORE = { 'cache-control': 'no-store' };
const MAX_JSON_BYTES = 8 * 1024;

/**
 * This browser's web push subscription, through the session: the VAPID key to subscribe with (GET), the subscription
 * to store (POST) and to drop again (DELETE). The page script never holds the access token.
 */
export const GET: RequestHandler = async (event) =>
  answer(await apiRequest<VapidKeyDto>(event, '/api/v1/push/vapid-public-key', { token: event.locals.accessToken }));

export const POST: RequestHandler = async (event) => {
  const body = await readBody(event, PushSubscriptionInput);
  if (body instanceof Response) return body;
  return answer(
    await apiRequest<PushSubscriptionDto>(event, '/api/v1/me/push-subscriptions', { method: 'POST', body, token: event.locals.accessToken }),
  );
};

export const DELETE: RequestHandler = async (event) => {
  const body = await readBody(event, RemovePushSubscriptionInput);
  if (body instanceof Response) return body;
  return answer(await apiRequest<void>(event, '/api/v1/me/push-subscriptions', { method: 'DELETE', body, token: event.locals.accessToken }));
};

function refuse(status: number, code: 'forbidden' | 'invalid_input' | 'payload_too_large', message: string): Response {
  return json({ error: { code, message } } satisfies ErrorResponse, { status, headers: NO_STORE });
}

async function readBody<T>(event: RequestEvent, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }): Promise<T | Response> {
  // Browsers send Origin with every POST and DELETE: another site's page cannot change this person's devices.
  if (event.request.headers.get('origin') !== event.url.origin) return refuse(403, 'forbidden', 'Cross-site request refused.');
  if (!(event.request.headers.get('content-type') ?? '').startsWith('application/json')) return refuse(415, 'invalid_input', 'Send JSON.');
  const text = await event.request.text();
  if (text.length > MAX_JSON_BYTES) return refuse(413, 'payload_too_large', 'That is too long.');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return refuse(400, 'invalid_input', 'The request body is not JSON.');
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : refuse(400, 'invalid_input', 'That is not a push subscription this server can use.');
}

function answer(result: ApiResult<unknown>): Response {
  if (!result.ok) return json({ error: result.error } satisfies ErrorResponse, { status: result.status, headers: NO_STORE });
  if (result.data === undefined) return new Response(null, { status: 204, headers: NO_STORE });
  return json(result.data, { status: result.status, headers: NO_STORE });
}
