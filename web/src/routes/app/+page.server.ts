import { fail } from '@sveltejs/kit';
import { generalMessage } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import type { Actions } from './$types';

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
