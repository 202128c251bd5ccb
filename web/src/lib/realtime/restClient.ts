import type { AckResult, ErrorBody } from '$contracts/errors.ts';

const UNREACHABLE: ErrorBody = { code: 'unavailable', message: 'Edulure is not reachable right now.' };

/**
 * A REST call from the browser through the web server's pass-through (`/app/api/v1/...`, which adds the session's
 * token). Answers in the same shape as socket acks, so stores handle both alike. `T` is the route's response type
 * from `$contracts` (`void` for a bodyless answer).
 */
export async function callApi<T = unknown>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  fetcher: typeof fetch = fetch,
): Promise<AckResult<T>> {
  let response: Response;
  try {
    response = await fetcher(`/app/api/v1/${path.replace(/^\/+/, '')}`, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    return { ok: false, error: UNREACHABLE };
  }
  const text = await response.text().catch(() => '');
  let payload: unknown = undefined;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = undefined;
    }
  }
  if (response.ok) return { ok: true, data: payload as T };
  const error = (payload as { error?: ErrorBody } | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') return { ok: false, error };
  return {
    ok: false,
    error: { code: response.status >= 500 ? 'unavailable' : 'internal', message: `The request failed (HTTP ${response.status}).` },
  };
}
