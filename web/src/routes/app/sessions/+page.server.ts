import { error, fail, redirect } from '@sveltejs/kit';
import { SessionIdParam, type SessionList } from '$contracts/auth.ts';
import { formString, generalMessage } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import { clearAuthCookies } from '$lib/server/cookies.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const result = await apiRequest<SessionList>(event, '/api/v1/auth/sessions', { token: event.locals.accessToken });
  if (!result.ok) {
    if (result.error.code === 'unauthenticated') redirect(303, '/signin');
    error(result.status >= 500 ? 503 : result.status, generalMessage(result.error));
  }
  // Current session first, then most recently used.
  const sessions = [...result.data.data].sort(
    (a, b) => Number(b.current) - Number(a.current) || b.lastUsedAt.localeCompare(a.lastUsedAt),
  );
  return { sessions };
};

export const actions: Actions = {
  revoke: async (event) => {
    const form = await event.request.formData();
    const parsed = SessionIdParam.safeParse({ id: formString(form, 'id') });
    if (!parsed.success) return fail(400, { revoke: { id: null, message: 'That session could not be found.' } });
    const { id } = parsed.data;

    const result = await apiRequest<void>(event, `/api/v1/auth/sessions/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      token: event.locals.accessToken,
    });
    // Already gone counts as done: the user wanted it revoked and it is.
    if (!result.ok && result.error.code !== 'not_found') {
      return fail(result.status, { revoke: { id, message: generalMessage(result.error) } });
    }
    if (id === event.locals.sessionId) {
      clearAuthCookies(event.cookies, event.url);
      redirect(303, '/signin');
    }
    return { revoke: { id, message: null, revoked: true } };
  },
};
