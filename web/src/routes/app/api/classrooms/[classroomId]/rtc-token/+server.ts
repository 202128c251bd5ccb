import { json } from '@sveltejs/kit';
import type { RtcTokenDto } from '$contracts/classrooms.ts';
import type { ErrorResponse } from '$contracts/errors.ts';
import { apiRequest } from '$lib/server/api.ts';
import { uuidParam } from '$lib/server/load.ts';
import type { RequestHandler } from './$types';

const NO_STORE = { 'cache-control': 'no-store' };

/** A video token for the class, fetched with the session's access token so page script never holds that token. */
export const POST: RequestHandler = async (event) => {
  const classroomId = uuidParam(event.params.classroomId);
  const result = await apiRequest<RtcTokenDto>(event, `/api/v1/classrooms/${classroomId}/rtc-token`, {
    method: 'POST',
    token: event.locals.accessToken,
  });
  if (!result.ok) return json({ error: result.error } satisfies ErrorResponse, { status: result.status, headers: NO_STORE });
  return json(result.data, { headers: NO_STORE });
};
