import { createHash } from 'node:crypto';
import type { RequestEvent } from '@sveltejs/kit';
import { REFRESH_COOKIE, type AuthResult, type UserDto, type UserEnvelope } from '$contracts/auth.ts';
import { isTokenFresh, readAccessTokenClaims, renewalMarginSeconds } from '$lib/jwt.ts';
import { apiRequest, type ApiCaller, type ApiResult } from './api.ts';
import { ACCESS_COOKIE, clearAuthCookies, setAuthCookies } from './cookies.ts';

export type AuthOutcome = 'signed_in' | 'anonymous' | 'unavailable';

/**
 * Resolves who is calling from the auth cookies and fills `event.locals`, refreshing the token pair when the access
 * token is missing, stale or rejected. Cookies are cleared only when the API says the session is gone, never when it
 * is merely unreachable.
 */
export async function authenticate(event: RequestEvent): Promise<AuthOutcome> {
  event.locals.user = null;
  event.locals.accessToken = null;
  event.locals.sessionId = null;

  const access = event.cookies.get(ACCESS_COOKIE);
  const refresh = event.cookies.get(REFRESH_COOKIE);

  // A token about to expire is replaced now rather than handed to a socket or API call that would see it lapse.
  if (access && isTokenFresh(access, Date.now(), renewalMarginSeconds(access))) {
    const me = await apiRequest<UserEnvelope>(event, '/api/v1/me', { token: access });
    if (me.ok) {
      setLocals(event, me.data.user, access, readAccessTokenClaims(access)?.sid ?? null);
      return 'signed_in';
    }
    if (!isAuthRejection(me)) return 'unavailable';
  }

  if (!refresh) {
    if (access) clearAuthCookies(event.cookies, event.url);
    return 'anonymous';
  }

  const refreshed = await refreshOnce(event, refresh);
  if (refreshed.ok) {
    setAuthCookies(event.cookies, event.url, refreshed.data);
    // AuthResult already carries the user as of this refresh, so a follow-up GET /me would only repeat it.
    setLocals(event, refreshed.data.user, refreshed.data.accessToken, refreshed.data.sessionId);
    return 'signed_in';
  }
  if (isAuthRejection(refreshed)) {
    clearAuthCookies(event.cookies, event.url);
    return 'anonymous';
  }
  return 'unavailable';
}

function setLocals(event: RequestEvent, user: UserDto, accessToken: string, sessionId: string | null) {
  event.locals.user = user;
  event.locals.accessToken = accessToken;
  event.locals.sessionId = sessionId;
}

/** The API answered and said no; anything else (unreachable, 5xx, rate limited) says nothing about the session. */
function isAuthRejection(result: ApiResult<unknown>): boolean {
  if (result.ok) return false;
  return ['unauthenticated', 'forbidden', 'not_found', 'invalid_input'].includes(result.error.code);
}

/**
 * Refresh tokens are single-use and a second presentation revokes the whole session. A browser routinely fires
 * several requests at once with the same stale cookie (page load, data request, socket token), so concurrent and
 * shortly-following refreshes of one token share a single API call and all receive the same new pair.
 * Per process only: in cluster mode a browser's parallel requests should be pinned to one node (sticky sessions,
 * which Socket.IO needs anyway).
 */
const REFRESH_SHARE_MS = 20_000;
const MAX_SHARED_REFRESHES = 10_000;
const sharedRefreshes = new Map<string, { result: Promise<ApiResult<AuthResult>>; until: number }>();

export function refreshOnce(caller: ApiCaller, refreshToken: string): Promise<ApiResult<AuthResult>> {
  const now = Date.now();
  for (const [key, entry] of sharedRefreshes) {
    if (entry.until <= now) sharedRefreshes.delete(key);
  }
  // Keyed by a hash so the map never holds a usable refresh token as a key.
  const key = createHash('sha256').update(refreshToken).digest('base64url');
  const existing = sharedRefreshes.get(key);
  if (existing) return existing.result;

  const result = apiRequest<AuthResult>(caller, '/api/v1/auth/refresh', { method: 'POST', body: { refreshToken } });
  if (sharedRefreshes.size < MAX_SHARED_REFRESHES) {
    sharedRefreshes.set(key, { result, until: now + REFRESH_SHARE_MS });
    // A transient failure must not be replayed to the next request: let it try again.
    void result.then((r) => {
      if (!r.ok && !isAuthRejection(r)) sharedRefreshes.delete(key);
    });
  }
  return result;
}

/** For tests: forget shared refreshes. */
export function resetSharedRefreshes(): void {
  sharedRefreshes.clear();
}
