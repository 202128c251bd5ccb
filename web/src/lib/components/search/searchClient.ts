import type { AckResult, ErrorBody } from '$contracts/errors.ts';

const UNREACHABLE: ErrorBody = { code: 'unavailable', message: 'Edulure is not reachable right now.' };

/**
 * A search call from the browser through the web server's narrow search routes (`/app/api/search`, `/suggest`,
 * `/recent`, `/messages`), which add the session's token. An abort (a newer keystroke) answers `null`.
 */
export async function searchGet<T>(
  route: '' | 'suggest' | 'recent' | 'messages',
  query: URLSearchParams | null = null,
  signal?: AbortSignal,
): Promise<AckResult<T> | null> {
  const url = `/app/api/search${route ? `/${route}` : ''}${query ? `?${query}` : ''}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store', signal });
  } catch {
    return signal?.aborted ? null : { ok: false, error: UNREACHABLE };
  }
  let payload: unknown;
  try {
    payload = await response.json();
  } catch {
    if (signal?.aborted) return null;
    payload = undefined;
  }
  if (signal?.aborted) return null;
  if (response.ok) return { ok: true, data: payload as T };
  const error = (payload as { error?: ErrorBody } | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') return { ok: false, error };
  return { ok: false, error: { code: response.status >= 500 ? 'unavailable' : 'internal', message: `The search failed (HTTP ${response.status}).` } };
}
