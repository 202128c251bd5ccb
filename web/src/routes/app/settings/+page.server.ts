import type { SessionList } from '$contracts/auth.ts';
import { apiRequest } from '$lib/server/api.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const { locals } = event;
  // The count beside "Sessions" is a hint, not the page's purpose: without it the links still work.
  const sessions = await apiRequest<SessionList>(event, '/api/v1/auth/sessions', { token: locals.accessToken });
  return {
    account: { displayName: locals.user!.displayName, email: locals.user!.email },
    activeSessions: sessions.ok ? sessions.data.data.length : null,
  };
};
