import { fail } from '@sveltejs/kit';
import { PasswordResetRequestInput } from '$contracts/auth.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, formString, type FormFailure } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import type { Actions } from './$types';

const FIELDS = ['email'] as const;

export const actions: Actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const values = { email: formString(form, 'email') };
    const parsed = PasswordResetRequestInput.safeParse(values);
    if (!parsed.success) {
      return fail(400, { values, fieldErrors: fieldErrorsFromIssues(parsed.error.issues), message: CHECK_FIELDS_MESSAGE } satisfies FormFailure);
    }
    const result = await apiRequest<void>(event, '/api/v1/auth/password-reset', { method: 'POST', body: parsed.data });
    if (!result.ok) return fail(result.status, failureFromApi(result.error, values, FIELDS));
    // The API answers alike whether or not the address has an account, and so does this page.
    return { sentTo: parsed.data.email };
  },
};
