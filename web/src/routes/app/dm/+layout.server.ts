import type { ChannelList } from '$contracts/communities.ts';
import { apiRequest } from '$lib/server/api.ts';
import { dataOrError } from '$lib/server/load.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async (event) => {
  const result = await apiRequest<ChannelList>(event, '/api/v1/dms', { token: event.locals.accessToken });
  return { dms: dataOrError(result).data };
};
