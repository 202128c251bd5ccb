import { redirect } from '@sveltejs/kit';
import { RegisterInput } from '$contracts/auth.ts';
import { formString } from '$lib/forms.ts';
import { submitAuthForm } from '$lib/server/authForm.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['displayName', 'email', 'password'] as const;

export const load: PageServerLoad = ({ locals }) => {
  if (locals.user) redirect(303, '/app');
};

export const actions: Actions = {
  default: async (event) => {
    const form = await event.request.formData();
    return submitAuthForm(event, {
      schema: RegisterInput,
      path: '/api/v1/auth/register',
      values: { displayName: formString(form, 'displayName'), email: formString(form, 'email') },
      password: formString(form, 'password'),
      fields: FIELDS,
      conflictField: 'email',
      next: '/app',
    });
  },
};
