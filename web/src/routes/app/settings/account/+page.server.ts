import { fail } from '@sveltejs/kit';
import { ChangePasswordInput, EmailChangeInput } from '$contracts/auth.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, formString, type FormFailure } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => ({ account: locals.user! });

/** Each form's result sits under its own key, so one form's errors never show in the other. */
export const actions: Actions = {
  password: async (event) => {
    const form = await event.request.formData();
    const input = { currentPassword: formString(form, 'currentPassword'), newPassword: formString(form, 'newPassword') };
    const parsed = ChangePasswordInput.safeParse(input);
    if (!parsed.success) {
      const failure: FormFailure = { values: {}, fieldErrors: fieldErrorsFromIssues(parsed.error.issues), message: CHECK_FIELDS_MESSAGE };
      return fail(400, { password: failure });
    }
    const result = await apiRequest<void>(event, '/api/v1/auth/password', {
      method: 'POST',
      body: parsed.data,
      token: event.locals.accessToken,
    });
    if (!result.ok) return fail(result.status, { password: failureFromApi(result.error, {}, ['currentPassword', 'newPassword']) });
    return { password: { changed: true as const } };
  },

  email: async (event) => {
    const form = await event.request.formData();
    const values = { newEmail: formString(form, 'newEmail') };
    const parsed = EmailChangeInput.safeParse({ ...values, currentPassword: formString(form, 'currentPassword') });
    if (!parsed.success) {
      const failure: FormFailure = { values, fieldErrors: fieldErrorsFromIssues(parsed.error.issues), message: CHECK_FIELDS_MESSAGE };
      return fail(400, { email: failure });
    }
    const result = await apiRequest<void>(event, '/api/v1/auth/email-change', {
      method: 'POST',
      body: parsed.data,
      token: event.locals.accessToken,
    });
    if (!result.ok) {
      return fail(result.status, { email: failureFromApi(result.error, values, ['newEmail', 'currentPassword'], 'newEmail') });
    }
    return { email: { sentTo: parsed.data.newEmail } };
  },
};
