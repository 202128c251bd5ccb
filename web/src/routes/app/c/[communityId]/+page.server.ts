import { fail, redirect } from '@sveltejs/kit';
import { CreateChannelInput, type ChannelEnvelope, type CommunityEnvelope, type InviteDto } from '$contracts/communities.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, formString, generalMessage } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import { uuidParam } from '$lib/server/load.ts';
import type { Actions } from './$types';

const CHANNEL_FIELDS = ['name', 'visibility', 'topic'] as const;

export const actions: Actions = {
  join: async (event) => {
    const communityId = uuidParam(event.params.communityId);
    const result = await apiRequest<CommunityEnvelope>(event, `/api/v1/communities/${communityId}/join`, {
      method: 'POST',
      token: event.locals.accessToken,
    });
    if (!result.ok && result.error.code !== 'conflict') {
      return fail(result.status, { join: { message: generalMessage(result.error) } });
    }
    redirect(303, `/app/c/${communityId}`);
  },

  createChannel: async (event) => {
    const communityId = uuidParam(event.params.communityId);
    const form = await event.request.formData();
    const values = Object.fromEntries(CHANNEL_FIELDS.map((f) => [f, formString(form, f)]));
    const parsed = CreateChannelInput.safeParse({ ...values, visibility: values.visibility || 'public' });
    if (!parsed.success) {
      return fail(400, {
        createChannel: { values, fieldErrors: fieldErrorsFromIssues(parsed.error.issues), message: CHECK_FIELDS_MESSAGE },
      });
    }
    const result = await apiRequest<ChannelEnvelope>(event, `/api/v1/communities/${communityId}/channels`, {
      method: 'POST',
      body: parsed.data,
      token: event.locals.accessToken,
    });
    if (!result.ok) {
      return fail(result.status, { createChannel: failureFromApi(result.error, values, CHANNEL_FIELDS, 'name') });
    }
    redirect(303, `/app/c/${communityId}/${result.data.channel.id}`);
  },

  invite: async (event) => {
    const communityId = uuidParam(event.params.communityId);
    const result = await apiRequest<InviteDto>(event, `/api/v1/communities/${communityId}/invites`, {
      method: 'POST',
      token: event.locals.accessToken,
    });
    if (!result.ok) return fail(result.status, { invite: { message: generalMessage(result.error), code: null } });
    const { code, expiresAt } = result.data;
    return { invite: { message: null, code, expiresAt } };
  },
};
