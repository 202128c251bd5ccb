import { fail, redirect, type RequestEvent } from '@sveltejs/kit';
import type { z } from 'zod';
import type { AuthResult } from '$contracts/auth.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, type FormFailure } from '$lib/forms.ts';
import { apiRequest } from './api.ts';
import { setAuthCookies } from './cookies.ts';

/**
 * The shared tail of the sign-in and sign-up actions: check the form with the API's own schema (so an obvious typo
 * does not spend the auth rate limit), call the API, show its errors beside the fields, or set the cookies and go on.
 * `values` are echoed back to the form; the password never is.
 */
export async function submitAuthForm(
  event: RequestEvent,
  options: {
    schema: z.ZodType;
    path: '/api/v1/auth/login' | '/api/v1/auth/register';
    values: Record<string, string>;
    password: string;
    fields: readonly string[];
    conflictField?: string;
    next: string;
  },
) {
  const { values } = options;
  const parsed = options.schema.safeParse({ ...values, password: options.password });
  if (!parsed.success) {
    return fail(400, {
      values,
      fieldErrors: fieldErrorsFromIssues(parsed.error.issues),
      message: CHECK_FIELDS_MESSAGE,
    } satisfies FormFailure);
  }
  const result = await apiRequest<AuthResult>(event, options.path, { method: 'POST', body: parsed.data });
  if (!result.ok) return fail(result.status, failureFromApi(result.error, values, options.fields, options.conflictField));
  setAuthCookies(event.cookies, event.url, result.data);
  redirect(303, options.next);
}
