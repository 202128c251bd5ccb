import type { Cookies } from '@sveltejs/kit';
import { REFRESH_COOKIE, type AuthResult } from '$contracts/auth.ts';

/** The short-lived access JWT; httpOnly so page scripts never see it (the socket asks /session/token instead). */
export const ACCESS_COOKIE = 'edulure_access';

const REFRESH_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

function baseOptions(url: URL) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: url.protocol === 'https:',
  };
}

export function setAuthCookies(cookies: Cookies, url: URL, result: Pick<AuthResult, 'accessToken' | 'expiresIn' | 'refreshToken'>): void {
  const options = baseOptions(url);
  cookies.set(ACCESS_COOKIE, result.accessToken, { ...options, maxAge: Math.max(1, result.expiresIn) });
  cookies.set(REFRESH_COOKIE, result.refreshToken, { ...options, maxAge: REFRESH_MAX_AGE_SECONDS });
}

export function clearAuthCookies(cookies: Cookies, url: URL): void {
  const options = baseOptions(url);
  cookies.delete(ACCESS_COOKIE, options);
  cookies.delete(REFRESH_COOKIE, options);
}
