import { rooms } from '../../contracts/realtime.ts';
import { isModeratingRole, isPlatformModerator } from '../access/roles.ts';
import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';

/*
 * Membership and channel access, live on every node (through the cluster adapter). Losing access is announced before
 * the room is left: each of the person's sockets hears `channel:removed` for a channel and then leaves its room, so a
 * client never sits in a room it cannot re-join. All of it runs after commit, so a client that re-joins at once is
 * refused by the policies.
 */
export function registerCommunityClientEvents(bus: EventBus, publisher: Publisher): void {
  const revokeChannels = (userId: string, channelIds: readonly string[]) => {
    const userRoom = rooms.user(userId);
    for (const channelId of channelIds) {
      publisher.toRoom(userRoom, 'channel:removed', { channelId });
      publisher.leaveRoom(userRoom, rooms.channel(channelId));
    }
  };

  // A new member's open sockets join the community's room at once (new public channels reach them there).
  bus.on('member.joined', ({ communityId, userId }) => publisher.joinRoom(rooms.user(userId), rooms.communityPresence(communityId)));

  bus.on('member.removed', ({ communityId, userId, channelIds, platformRole }) => {
    const userRoom = rooms.user(userId);
    revokeChannels(userId, channelIds);
    publisher.leaveRoom(userRoom, rooms.communityPresence(communityId));
    // Presence is seen through a shared community: who follows whom is checked again.
    publisher.revokePresence(userId);
    // Their open feeds stop hearing it too; a public community's feed can be subscribed to again (FeedPolicy.read).
    publisher.leaveRoom(userRoom, rooms.feed(communityId));
    if (!isPlatformModerator({ role: platformRole })) publisher.leaveRoom(userRoom, rooms.moderation(communityId));
  });

  // A moderator demoted to member stops hearing the moderation queue at once (platform staff moderate everywhere).
  bus.on('member.role_changed', ({ communityId, userId, previousRole, role, platformRole }) => {
    if (isModeratingRole(previousRole) && !isModeratingRole(role) && !isPlatformModerator({ role: platformRole })) {
      publisher.leaveRoom(rooms.user(userId), rooms.moderation(communityId));
    }
  });

  // Sidebars and inboxes update live: a public channel reaches every connected member (they are all in the
  // community's room), anything else the devices of the people who can read it.
  bus.on('channel.added', (event) => {
    const payload = { channelId: event.channelId, communityId: event.communityId };
    if (event.openTo === 'members') publisher.toRoom(rooms.communityPresence(event.communityId), 'channel:added', payload);
    else for (const userId of event.userIds) publisher.toRoom(rooms.user(userId), 'channel:added', payload);
  });

  bus.on('channel.access_revoked', ({ userId, channelIds }) => revokeChannels(userId, channelIds));
}
