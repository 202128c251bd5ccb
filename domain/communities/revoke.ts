import { rooms } from '../../contracts/realtime.ts';
import { removeFromCommunityClassrooms } from '../classrooms/eviction.ts';
import { accessKey, ChannelPolicy, loadChannelAccessMany } from '../chat/access.ts';
import { ModerationPolicy } from '../moderation/policy.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { sqlOf } from '../shared/sql.ts';

/**
 * Takes a user out of channels live, on every node: each of their sockets is told `channel:removed` and then leaves
 * the channel room (through the cluster adapter). Call only after the change that revoked access has committed, so a
 * client that re-joins at once is refused by the policy.
 */
export function revokeChannelAccess(deps: Deps, userId: string, channelIds: Iterable<string>): void {
  const userRoom = rooms.user(userId);
  for (const channelId of channelIds) {
    deps.publisher.toRoom(userRoom, 'channel:removed', { channelId });
    deps.publisher.leaveRoom(userRoom, rooms.channel(channelId));
  }
}

/** After commit: tell the sockets in `room` that a channel they can read exists, so sidebars and inboxes update live. */
export function announceChannelAdded(deps: Deps, room: string, channelId: string, communityId: string | null): void {
  deps.publisher.toRoom(room, 'channel:added', { channelId, communityId });
}

/** After joining a community (after commit): the new member's open sockets start hearing its presence at once. */
export function grantCommunityAccess(deps: Deps, userId: string, communityId: string): void {
  deps.publisher.joinRoom(rooms.user(userId), rooms.communityPresence(communityId));
}

/**
 * After leaving or being removed from a community: no channel of it is readable any more, nor its presence, and they
 * are out of its live classrooms on every node.
 */
export async function revokeCommunityAccess(deps: Deps, userId: string, communityId: string, channelIds: Iterable<string>): Promise<void> {
  revokeChannelAccess(deps, userId, channelIds);
  deps.publisher.leaveRoom(rooms.user(userId), rooms.communityPresence(communityId));
  // Their open feeds stop hearing it too; a public community's feed can be subscribed to again (FeedPolicy.read).
  deps.publisher.leaveRoom(rooms.user(userId), rooms.feed(communityId));
  await revokeModerationAccess(deps, userId, communityId);
  await removeFromCommunityClassrooms(deps, userId, communityId);
}

/**
 * After someone stops moderating a community (demoted, removed, left): their open consoles stop receiving its queue, on
 * every node. Platform moderators and admins moderate every community, so they stay.
 */
export async function revokeModerationAccess(deps: Deps, userId: string, communityId: string): Promise<void> {
  const [user] = await sqlOf(deps.orm.em.fork())<{ role: Actor['role'] }>('select role from users where id = ?', [userId]);
  if (user && ModerationPolicy.moderate({ userId, sessionId: '', role: user.role }, null)) return;
  deps.publisher.leaveRoom(rooms.user(userId), rooms.moderation(communityId));
}

/**
 * For changes after which access may or may not remain (a community admin reads private channels without being a
 * channel member; a demoted admin may still be one): asks ChannelPolicy.read about each channel as it is now and
 * revokes only those the user lost. Returns the revoked channel ids.
 */
export async function revokeLostChannelAccess(deps: Deps, userId: string, channelIds: readonly string[]): Promise<string[]> {
  if (channelIds.length === 0) return [];
  const em = deps.orm.em.fork();
  const [user] = await sqlOf(em)<{ role: Actor['role'] }>('select role from users where id = ?', [userId]);
  // ChannelPolicy.read looks at the loaded access and the platform role only; there is no session here.
  const subject: Actor = { userId, sessionId: '', role: user?.role ?? 'user' };
  const accesses = await loadChannelAccessMany(
    em,
    channelIds.map((channelId) => ({ userId, channelId })),
  );
  const lost = channelIds.filter((channelId) => {
    const access = accesses.get(accessKey(userId, channelId));
    return !access || !ChannelPolicy.read(subject, access);
  });
  revokeChannelAccess(deps, userId, lost);
  return lost;
}
