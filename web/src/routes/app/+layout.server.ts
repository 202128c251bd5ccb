import { redirect } from '@sveltejs/kit';
import type { ChannelList } from '$contracts/communities.ts';
import type { UnreadNotificationCount } from '$contracts/notifications.ts';
import { apiRequest } from '$lib/server/api.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async (event) => {
  const { locals } = event;
  // The hook already redirects signed-out requests; this narrows the type for the pages below.
  if (!locals.user) redirect(303, '/signin');
  const token = locals.accessToken;
  // The badges in the header are right in the first paint, before the socket connects. Neither is worth failing the
  // page for: without them the shell starts at zero and the socket's catch-up fills them in.
  const [unread, dms] = await Promise.all([
    apiRequest<UnreadNotificationCount>(event, '/api/v1/notifications/unread-count', { token }),
    apiRequest<ChannelList>(event, '/api/v1/dms', { token }),
  ]);
  return {
    user: locals.user,
    unreadNotifications: unread.ok ? unread.data.unreadCount : null,
    /** Followed live by the shell for the unread count on "Messages". */
    dmChannels: dms.ok ? dms.data.data : [],
  };
};
