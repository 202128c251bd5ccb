import { redirect } from '@sveltejs/kit';
import { apiRequest } from '$lib/server/api.ts';
import { clearAuthCookies } from '$lib/server/cookies.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
  // Signing out changes state, so it only happens through the POST action; a plain visit shows a confirm button.
  if (!locals.user) redirect(303, '/signin');
};

export const actions: Actions = {
  default: async (event) => {
    if (event.locals.accessToken) {
      // Best effort: the cookies go regardless, so the browser is signed out even if the API is briefly unreachable.
      await apiRequest<void>(event, '/api/v1/auth/logout', { method: 'POST', token: event.locals.accessToken });
    }
    clearAuthCookies(event.cookies, event.url);
    redirect(303, '/signin');
  },
};
