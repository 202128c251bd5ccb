import { fail, redirect } from '@sveltejs/kit';
import { CreateCommunityInput, type CommunityEnvelope, type CommunityPage } from '$contracts/communities.ts';
import { failureFromApi, fieldErrorsFromIssues, formString, generalMessage, CHECK_FIELDS_MESSAGE } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import { dataOrError } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const q = (event.url.searchParams.get('q') ?? '').trim().slice(0, 80);
  const cursor = event.url.searchParams.get('cursor') ?? '';
  const query = new URLSearchParams({ limit: '50' });
  if (q) query.set('q', q);
  if (cursor) query.set('cursor', cursor.slice(0, 200));
  const page = dataOrError(
    await apiRequest<CommunityPage>(event, `/api/v1/communities?${query}`, { token: event.locals.accessToken }),
  );
  return {
    q,
    mine: page.data.filter((c) => c.myRole !== null),
    discover: page.data.filter((c) => c.myRole === null),
    nextCursor: page.nextCursor,
  };
};

const CREATE_FIELDS = ['name', 'description', 'visibility'] as const;

export const actions: Actions = {
  create: async (event) => {
    const form = await event.request.formData();
    const values = Object.fromEntries(CREATE_FIELDS.map((f) => [f, formString(form, f)]));
    const parsed = CreateCommunityInput.safeParse(values);
    if (!parsed.success) {
      return fail(400, { create: { values, fieldErrors: fieldErrorsFromIssues(parsed.error.issues), message: CHECK_FIELDS_MESSAGE } });
    }
    const result = await apiRequest<CommunityEnvelope>(event, '/api/v1/communities', {
      method: 'POST',
      body: parsed.data,
      token: event.locals.accessToken,
    });
    if (!result.ok) return fail(result.status, { create: failureFromApi(result.error, values, CREATE_FIELDS, 'name') });
    redirect(303, `/app/c/${result.data.community.id}`);
  },

  join: async (event) => {
    const form = await event.request.formData();
    const communityId = formString(form, 'communityId');
    const result = await apiRequest<CommunityEnvelope>(event, `/api/v1/communities/${encodeURIComponent(communityId)}/join`, {
      method: 'POST',
      token: event.locals.accessToken,
    });
    if (!result.ok && result.error.code !== 'conflict') {
      return fail(result.status, { join: { communityId, message: generalMessage(result.error) } });
    }
    redirect(303, `/app/c/${encodeURIComponent(communityId)}`);
  },

  accept: async (event) => {
    const form = await event.request.formData();
    const code = formString(form, 'code').trim();
    if (!code) return fail(400, { accept: { code, message: 'Enter the invite code you were given.' } });
    const result = await apiRequest<CommunityEnvelope>(event, `/api/v1/invites/${encodeURIComponent(code)}/accept`, {
      method: 'POST',
      token: event.locals.accessToken,
    });
    if (!result.ok) return fail(result.status, { accept: { code, message: generalMessage(result.error) } });
    redirect(303, `/app/c/${result.data.community.id}`);
  },
};
