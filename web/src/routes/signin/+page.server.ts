import { redirect } from '@sveltejs/kit';
import { LoginInput } from '$contracts/auth.ts';
import { formString, safeNextPath } from '$lib/forms.ts';
import { submitAuthForm } from '$lib/server/authForm.ts';
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
    return submitAuthForm(event, {
      schema: LoginInput,
      path: '/api/v1/auth/login',
      values: { email: formString(form, 'email') },
      password: formString(form, 'password'),
      fields: FIELDS,
      next: safeNextPath(formString(form, 'next')),
    });
  },
};
