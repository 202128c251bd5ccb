import { error } from '@sveltejs/kit';
import { generalMessage } from '$lib/forms.ts';
import { downloadEarningsCsv } from '$lib/server/commerce.ts';
import type { RequestHandler } from './$types';

const ISO = /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/;

/** My earnings as CSV, passed through from the API with a file name. */
export const GET: RequestHandler = async (event) => {
  const from = event.url.searchParams.get('from');
  const to = event.url.searchParams.get('to');
  const result = await downloadEarningsCsv(event, from && ISO.test(from) ? from : null, to && ISO.test(to) ? to : null);
  if (!result.ok) error(result.status >= 500 ? 503 : result.status, generalMessage(result.error));
  return new Response(result.response.body, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="edulure-earnings-${new Date().toISOString().slice(0, 10)}.csv"`,
      'cache-control': 'no-store',
    },
  });
};
