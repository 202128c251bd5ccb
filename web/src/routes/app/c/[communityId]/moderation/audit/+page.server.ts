import { fail } from '@sveltejs/kit';
import { formString, generalMessage } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import { fetchAuditLog, fetchBans, requireRight } from '$lib/server/moderation.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const { community, rights } = await event.parent();
  requireRight(rights.administer, 'admins');
  const cursor = event.url.searchParams.get('cursor');
  const [log, bans] = await Promise.all([fetchAuditLog(event, community.id, cursor && cursor.length <= 200 ? cursor : null), fetchBans(event, community.id)]);
  return {
    log: dataOrError(log),
    // The ban list is a convenience beside the log; the log still shows when it cannot be read.
    bans: bans.ok ? bans.data : [],
    paged: Boolean(cursor),
  };
};

export const actions: Actions = {
  unban: async (event) => {
    const communityId = uuidParam(event.params.communityId);
    const form = await event.request.formData();
    const userId = uuidParam(formString(form, 'userId'));
    const result = await apiRequest<void>(event, `/api/v1/communities/${communityId}/bans/${userId}`, {
      method: 'DELETE',
      token: event.locals.accessToken,
    });
    if (!result.ok) return fail(result.status, { unban: { userId, message: generalMessage(result.error) } });
    return { unban: { userId, message: null } };
  },
};
