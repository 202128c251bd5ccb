import type { PresenceStatus } from '$contracts/chat.ts';
import type { ChannelDto, CommunityDto, MemberDto } from '$contracts/communities.ts';
import { apiRequest } from '$lib/server/api.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async (event) => {
  event.depends('app:community');
  const communityId = uuidParam(event.params.communityId);
  const token = event.locals.accessToken;
  const found = dataOrError(
    await apiRequest<{ community: CommunityDto } | CommunityDto>(event, `/api/v1/communities/${communityId}`, { token }),
  );
  const community = 'community' in found ? found.community : found;
  if (!community.myRole) return { community, channels: [], members: [], presence: [] };

  const [channels, members, presence] = await Promise.all([
    apiRequest<{ data: ChannelDto[] }>(event, `/api/v1/communities/${communityId}/channels`, { token }),
    apiRequest<{ data: MemberDto[] }>(event, `/api/v1/communities/${communityId}/members?limit=100`, { token }),
    apiRequest<{ data: { userId: string; status: PresenceStatus }[] }>(event, `/api/v1/communities/${communityId}/presence`, {
      token,
    }),
  ]);
  return {
    community,
    channels: dataOrError(channels).data,
    members: dataOrError(members).data,
    // Presence is a nicety: the page works without it and live updates fill it in.
    presence: presence.ok ? presence.data.data : [],
  };
};
