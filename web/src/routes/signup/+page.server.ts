import { fail, redirect } from '@sveltejs/kit';
import { RegisterInput, type AuthResult } from '$contracts/auth.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, formString, type FormFailure } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import { setAuthCookies } from '$lib/server/cookies.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['displayName', 'email', 'password'] as const;

export const load: PageServerLoad = ({ locals }) => {
  if (locals.user) redirect(303, '/app');
};

export const actions: Actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const values = { displayName: formString(form, 'displayName'), email: formString(form, 'email') };
    const parsed = RegisterInput.safeParse({ ...values, password: formString(form, 'password') });
    if (!parsed.success) {
      // Same schema as the API, checked here first so an obvious typo does not spend the auth rate limit.
      return fail(400, {
        values,
        fieldErrors: fieldErrorsFromIssues(parsed.error.issues),
        message: CHECK_FIELDS_MESSAGE,
      } satisfies FormFailure);
    }

    const result = await apiRequest<AuthResult>(event, '/api/v1/auth/register', { method: 'POST', body: parsed.data });
    if (!result.ok) return fail(result.status, failureFromApi(result.error, values, FIELDS, 'email'));

    setAuthCookies(event.cookies, event.url, result.data);
    redirect(303, '/app');
  },
};
