import { error } from '@sveltejs/kit';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, parent }) => {
  const { channels, community } = await parent();
  const channel = channels.find((c) => c.id === params.channelId.toLowerCase());
  if (!channel) {
    error(404, community.myRole ? 'This channel does not exist or you cannot read it.' : 'Join the community to read its channels.');
  }
  return { channel };
};
