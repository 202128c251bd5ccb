import { error, redirect } from '@sveltejs/kit';
import { isTheme, THEME_COOKIE, themeCookieOptions } from '$lib/theme.ts';
import type { RequestHandler } from './$types';

/** The theme toggle without JavaScript: a form post that remembers the choice and returns to the page it came from. */
export const POST: RequestHandler = async ({ request, cookies, url }) => {
  const form = await request.formData().catch(() => null);
  const theme = form?.get('theme');
  if (!isTheme(theme)) error(400, 'Choose system, light or dark.');
  cookies.set(THEME_COOKIE, theme, { ...themeCookieOptions, secure: url.protocol === 'https:' });
  const next = form?.get('next');
  // Only a path on this site: never an open redirect.
  const back = typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
  redirect(303, back);
};
