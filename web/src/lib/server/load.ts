import { error, redirect } from '@sveltejs/kit';
import { generalMessage } from '$lib/forms.ts';
import type { ApiResult } from './api.ts';

/**
 * The data of a successful API call for a page load; otherwise the matching error page (or the sign-in page when
 * the session is gone), so loads read as straight-line code.
 */
export function dataOrError<T>(result: ApiResult<T>): T {
  if (result.ok) return result.data;
  if (result.error.code === 'unauthenticated') redirect(303, '/signin');
  const status = result.status >= 500 ? 503 : result.status >= 400 ? result.status : 500;
  error(status, generalMessage(result.error));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Route ids are UUIDs; anything else is a page that does not exist (rather than a 400 from the API). */
export function uuidParam(value: string): string {
  if (!UUID.test(value)) error(404, 'Not found');
  return value.toLowerCase();
}
