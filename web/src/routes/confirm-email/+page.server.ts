import { EmailChangeConfirmInput, type UserEnvelope } from '$contracts/auth.ts';
import { apiRequest } from '$lib/server/api.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const parsed = EmailChangeConfirmInput.safeParse({ token: event.url.searchParams.get('token') ?? '' });
  if (!parsed.success) {
    return { confirmed: false, message: 'This confirmation link is incomplete. Open the link from the e-mail again.' };
  }
  const result = await apiRequest<UserEnvelope>(event, '/api/v1/auth/email-change/confirm', { method: 'POST', body: parsed.data });
  if (result.ok) return { confirmed: true, message: `Your account's e-mail is now ${result.data.user.email}. Sign in with it from now on.` };
  if (result.error.code === 'rate_limited' || result.error.code === 'unavailable' || result.error.code === 'internal') {
    return { confirmed: false, message: `We could not confirm your new e-mail right now. ${result.error.message}` };
  }
  return { confirmed: false, message: result.error.message };
};
