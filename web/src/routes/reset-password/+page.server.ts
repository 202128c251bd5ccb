import { fail } from '@sveltejs/kit';
import { PasswordResetConfirmInput } from '$contracts/auth.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, formString, type FieldErrors } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import { clearAuthCookies } from '$lib/server/cookies.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ url }) => ({ token: url.searchParams.get('token')?.trim() ?? '' });

/**
 * A broken, used or expired link cannot be fixed in this form: its message goes above the form (with a way to ask for
 * a new link) rather than beside the hidden field that carries it.
 */
function refusal(status: number, fieldErrors: FieldErrors, message: string) {
  const { token: linkProblem, ...rest } = fieldErrors;
  return fail(status, { values: {}, fieldErrors: rest, message: linkProblem ?? message, linkDead: linkProblem !== undefined });
}

export const actions: Actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const parsed = PasswordResetConfirmInput.safeParse({ token: formString(form, 'token'), password: formString(form, 'password') });
    if (!parsed.success) return refusal(400, fieldErrorsFromIssues(parsed.error.issues), CHECK_FIELDS_MESSAGE);
    const result = await apiRequest<void>(event, '/api/v1/auth/password-reset/confirm', { method: 'POST', body: parsed.data });
    if (!result.ok) {
      const failure = failureFromApi(result.error, {}, ['password', 'token']);
      return refusal(result.status, failure.fieldErrors, failure.message ?? CHECK_FIELDS_MESSAGE);
    }
    // Every session of the account has ended, this browser's included.
    clearAuthCookies(event.cookies, event.url);
    return { done: true as const };
  },
};
