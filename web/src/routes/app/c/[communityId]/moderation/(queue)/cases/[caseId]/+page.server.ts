import { error, fail } from '@sveltejs/kit';
import type { CaseEnvelope } from '$contracts/moderation.ts';
import { generalMessage } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import { actOnCase, fetchCase } from '$lib/server/moderation.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  event.depends('app:moderation-case');
  const { community } = await event.parent();
  const kase = dataOrError(await fetchCase(event, uuidParam(event.params.caseId)));
  // A case id from another community's console: the same 404 as any unknown case.
  if (kase.communityId !== community.id) error(404, 'This case is not in this community.');
  return { case: kase };
};

export const actions: Actions = {
  claim: async (event) => {
    const caseId = uuidParam(event.params.caseId);
    const result = await apiRequest<CaseEnvelope>(event, `/api/v1/moderation/cases/${caseId}/claim`, {
      method: 'POST',
      token: event.locals.accessToken,
    });
    if (!result.ok) return fail(result.status, { claim: { message: generalMessage(result.error) } });
    return { claim: { message: null } };
  },
  act: async (event) => {
    const outcome = await actOnCase(event, uuidParam(event.params.caseId));
    if (!outcome.ok) return fail(outcome.status, { act: outcome.failure });
    return { acted: outcome.kase };
  },
};
