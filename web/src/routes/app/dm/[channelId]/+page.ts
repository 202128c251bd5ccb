import { error } from '@sveltejs/kit';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, parent }) => {
  const { dms } = await parent();
  const channel = dms.find((dm) => dm.id === params.channelId.toLowerCase());
  if (!channel) error(404, 'This conversation does not exist or you are not part of it.');
  return { channel };
};
