import type { PresenceList } from '$contracts/chat.ts';
import type { ChannelList, CommunityEnvelope, MemberPage } from '$contracts/communities.ts';
import { apiRequest } from '$lib/server/api.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async (event) => {
  event.depends('app:community');
  const communityId = uuidParam(event.params.communityId);
  const token = event.locals.accessToken;
  const { community } = dataOrError(await apiRequest<CommunityEnvelope>(event, `/api/v1/communities/${communityId}`, { token }));
  if (!community.myRole) return { community, channels: [], members: [], presence: [] };

  const [channels, members, presence] = await Promise.all([
    apiRequest<ChannelList>(event, `/api/v1/communities/${communityId}/channels`, { token }),
    apiRequest<MemberPage>(event, `/api/v1/communities/${communityId}/members?limit=100`, { token }),
    apiRequest<PresenceList>(event, `/api/v1/communities/${communityId}/presence`, { token }),
  ]);
  return {
    community,
    channels: dataOrError(channels).data,
    members: dataOrError(members).data,
    // Presence is a nicety: the page works without it and live updates fill it in.
    presence: presence.ok ? presence.data.data : [],
  };
};
