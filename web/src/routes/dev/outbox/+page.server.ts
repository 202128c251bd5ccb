import { error } from '@sveltejs/kit';
import type { OutboxList } from '$contracts/auth.ts';
import { generalMessage } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const result = await apiRequest<OutboxList>(event, '/api/v1/dev/outbox');
  // The API only serves the outbox in development without SMTP; everywhere else it answers 404.
  if (!result.ok && result.error.code === 'not_found') return { available: false as const, messages: [] };
  if (!result.ok) error(result.status >= 500 ? 503 : result.status, generalMessage(result.error));
  return { available: true as const, messages: result.data.data };
};
