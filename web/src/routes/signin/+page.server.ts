import { fail, redirect } from '@sveltejs/kit';
import { LoginInput, type AuthResult } from '$contracts/auth.ts';
import {
  CHECK_FIELDS_MESSAGE,
  failureFromApi,
  fieldErrorsFromIssues,
  formString,
  safeNextPath,
  type FormFailure,
} from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import { setAuthCookies } from '$lib/server/cookies.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['email', 'password'] as const;

export const load: PageServerLoad = ({ locals, url }) => {
  const next = safeNextPath(url.searchParams.get('next'));
  if (locals.user) redirect(303, next);
  return { next };
};

export const actions: Actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const values = { email: formString(form, 'email') };
    const next = safeNextPath(formString(form, 'next'));
    const parsed = LoginInput.safeParse({ ...values, password: formString(form, 'password') });
    if (!parsed.success) {
      return fail(400, {
        values,
        fieldErrors: fieldErrorsFromIssues(parsed.error.issues),
        message: CHECK_FIELDS_MESSAGE,
      } satisfies FormFailure);
    }

    const result = await apiRequest<AuthResult>(event, '/api/v1/auth/login', { method: 'POST', body: parsed.data });
    if (!result.ok) return fail(result.status, failureFromApi(result.error, values, FIELDS));

    setAuthCookies(event.cookies, event.url, result.data);
    redirect(303, next);
  },
};
