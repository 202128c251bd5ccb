import { error } from '@sveltejs/kit';
import { generalMessage } from '$lib/forms.ts';
import { apiDownload } from '$lib/server/api.ts';
import { uuidParam } from '$lib/server/load.ts';
import type { RequestHandler } from './$types';

/** The attendance report as a CSV download, fetched with the session's token (a plain link cannot carry it). */
export const GET: RequestHandler = async (event) => {
  const classroomId = uuidParam(event.params.classroomId);
  const result = await apiDownload(event, `/api/v1/classrooms/${classroomId}/attendance?format=csv`, {
    token: event.locals.accessToken,
    accept: 'text/csv',
  });
  if (!result.ok) error(result.status >= 500 ? 503 : result.status, generalMessage(result.error));
  return new Response(await result.response.text(), {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="attendance-${classroomId}.csv"`,
      'cache-control': 'no-store',
    },
  });
};
