import type { PresenceList } from '$contracts/chat.ts';
import type { ChannelList, CommunityEnvelope, MemberPage } from '$contracts/communities.ts';
import { apiRequest } from '$lib/server/api.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async (event) => {
  event.depends('app:community');
  const communityId = uuidParam(event.params.communityId);
  const token = event.locals.accessToken;
  // All four at once: the page waits for one round trip instead of two. The lists are only used for a member; for
  // anyone else they are dropped (and the API refuses member-only lists to them anyway).
  const [envelope, channels, members, presence] = await Promise.all([
    apiRequest<CommunityEnvelope>(event, `/api/v1/communities/${communityId}`, { token }),
    apiRequest<ChannelList>(event, `/api/v1/communities/${communityId}/channels`, { token }),
    apiRequest<MemberPage>(event, `/api/v1/communities/${communityId}/members?limit=100`, { token }),
    apiRequest<PresenceList>(event, `/api/v1/communities/${communityId}/presence`, { token }),
  ]);
  const { community } = dataOrError(envelope);
  if (!community.myRole) return { community, channels: [], members: [], presence: [] };
  return {
    community,
    channels: dataOrError(channels).data,
    members: dataOrError(members).data,
    // Presence is a nicety: the page works without it and live updates fill it in.
    presence: presence.ok ? presence.data.data : [],
  };
};
