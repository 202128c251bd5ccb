import { error, redirect, type Handle } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { authenticate } from '$lib/server/session.ts';
import { parseTheme, THEME_COOKIE } from '$lib/theme.ts';

/** The chosen theme is in the server's HTML, so a dark page never flashes white first (app.html has the placeholders). */
const renderTheme: Handle = ({ event, resolve }) => {
  const theme = parseTheme(event.cookies.get(THEME_COOKIE));
  event.locals.theme = theme;
  return resolve(event, {
    transformPageChunk: ({ html }) =>
      html.replace('%edulure.theme.class%', theme === 'dark' ? 'dark' : '').replace('%edulure.theme%', theme),
  });
};

const authenticateRequest: Handle = async ({ event, resolve }) => {
  const outcome = await authenticate(event);
  // Rendering the signed-out UI while the API is down would look like a logout; say what is happening instead.
  if (outcome === 'unavailable') error(503, 'Edulure is not reachable right now. Please try again in a moment.');
  return resolve(event);
};

/**
 * Guarding here rather than in the /app layout load also covers form actions and page loads under /app, which
 * SvelteKit runs without waiting for layout loads.
 */
const guardApp: Handle = async ({ event, resolve }) => {
  const { pathname, search } = event.url;
  const inApp = pathname === '/app' || pathname.startsWith('/app/');
  if (inApp && !event.locals.user) {
    const next = event.request.method === 'GET' ? `?next=${encodeURIComponent(pathname + search)}` : '';
    redirect(303, `/signin${next}`);
  }
  return resolve(event);
};

export const handle = sequence(renderTheme, authenticateRequest, guardApp);
