import { fail } from '@sveltejs/kit';
import type { DashboardDto } from '$contracts/dashboard.ts';
import { generalMessage } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import type { Actions, PageServerLoad } from './$types';

/**
 * The home dashboard, in one API request. Reloaded (`app:dashboard`) when notifications arrive, and with the class
 * pages (`app:classes`) when a class of mine goes live. A failure shows on the page with a retry, not as an error page:
 * the rest of the shell still works.
 */
export const load: PageServerLoad = async (event) => {
  event.depends('app:dashboard', 'app:classes');
  const result = await apiRequest<DashboardDto>(event, '/api/v1/me/dashboard', { token: event.locals.accessToken });
  return result.ok ? { dashboard: result.data, dashboardError: null } : { dashboard: null, dashboardError: generalMessage(result.error) };
};

export const actions: Actions = {
  // Posted from the verification banner on any /app page.
  resendVerification: async (event) => {
    const result = await apiRequest<void>(event, '/api/v1/auth/verify-email/resend', {
      method: 'POST',
      token: event.locals.accessToken,
    });
    if (!result.ok) return fail(result.status, { resend: { ok: false, message: generalMessage(result.error) } });
    return { resend: { ok: true, message: 'A new verification link is on its way.' } };
  },
};
