import { VerifyEmailInput, type UserEnvelope } from '$contracts/auth.ts';
import { apiRequest } from '$lib/server/api.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const parsed = VerifyEmailInput.safeParse({ token: event.url.searchParams.get('token') ?? '' });
  if (!parsed.success) {
    return { verified: false, message: 'This verification link is incomplete. Open the link from the e-mail again.' };
  }
  const result = await apiRequest<UserEnvelope>(event, '/api/v1/auth/verify-email', {
    method: 'POST',
    body: parsed.data,
  });
  if (result.ok) return { verified: true, message: `Thanks, ${result.data.user.email} is now verified.` };
  if (result.error.code === 'rate_limited' || result.error.code === 'unavailable' || result.error.code === 'internal') {
    return { verified: false, message: `We could not verify your e-mail right now. ${result.error.message}` };
  }
  return { verified: false, message: result.error.message };
};
