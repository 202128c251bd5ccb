import { fail, redirect } from '@sveltejs/kit';
import { CreateDmInput, type ChannelEnvelope } from '$contracts/communities.ts';
import { generalMessage } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import type { Actions } from './$types';

export const actions: Actions = {
  /** Opens the 1:1 (or group) conversation with the given people, creating it the first time. */
  start: async (event) => {
    const form = await event.request.formData();
    const userIds = form.getAll('userId').filter((v): v is string => typeof v === 'string');
    const parsed = CreateDmInput.safeParse({ userIds });
    if (!parsed.success) return fail(400, { start: { message: parsed.error.issues[0]?.message ?? 'Pick someone to message.' } });
    const result = await apiRequest<ChannelEnvelope>(event, '/api/v1/dms', {
      method: 'POST',
      body: parsed.data,
      token: event.locals.accessToken,
    });
    if (!result.ok) return fail(result.status, { start: { message: generalMessage(result.error) } });
    redirect(303, `/app/dm/${result.data.channel.id}`);
  },
};
