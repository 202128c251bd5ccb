import type { PlatformRole } from '../../contracts/auth.ts';
import { db, type Db } from '../../orm/db.ts';
import { accessKey, ChannelPolicy, loadChannelAccessMany } from '../access/channel.ts';
import { removeFromCommunityClassrooms } from '../classrooms/eviction.ts';
import type { Actor, Deps } from '../shared/deps.ts';

/*
 * After-commit steps of the changes that take access away. Call them only once the change has committed, so a client
 * that re-joins at once is refused by the policies; they announce what happened as domain events and leave the
 * sockets and rooms to the listeners (clientEvents.ts).
 */

/** The user's platform role; someone who no longer exists counts as a plain user. */
export async function loadPlatformRole(q: Db, userId: string): Promise<PlatformRole> {
  const user = await q.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst();
  return user?.role ?? 'user';
}

/** The user can no longer read these channels (nothing is announced for none). */
export async function revokeChannelAccess(deps: Deps, userId: string, channelIds: Iterable<string>): Promise<void> {
  const ids = [...channelIds];
  if (ids.length) await deps.events.emit('channel.access_revoked', { userId, channelIds: ids });
}

/**
 * Tells the sockets in `room` that a channel they can read exists. Operations of this feature emit `channel.added`
 * instead; this remains for the class co-host flow (domain/classrooms/scheduling.ts) until it emits the event itself.
 */
export function announceChannelAdded(deps: Deps, room: string, channelId: string, communityId: string | null): void {
  deps.publisher.toRoom(room, 'channel:added', { channelId, communityId });
}

/**
 * After leaving, a kick or a ban: no channel of the community is readable any more, nor its presence, feed or
 * moderation queue (`member.removed`), and the former member is out of its scheduled and live classes on every node.
 * `platformRole` when the caller has it at hand, else it is loaded.
 *
 * The classes are released here, after the event, rather than by a listener: releasing a seat is database work of
 * the classrooms feature (waitlist promotion, attendance, room patches) that needs the whole of `deps`, and it stays
 * last, as before. It logs its own failures; the membership change has committed either way.
 */
export async function revokeCommunityAccess(
  deps: Deps,
  userId: string,
  communityId: string,
  channelIds: Iterable<string>,
  platformRole?: PlatformRole,
): Promise<void> {
  const role = platformRole ?? (await loadPlatformRole(db(deps.orm.em.fork()), userId));
  await deps.events.emit('member.removed', { communityId, userId, channelIds: [...channelIds], platformRole: role });
  await removeFromCommunityClassrooms(deps, userId, communityId);
}

/**
 * For changes after which access may or may not remain (a community admin reads private channels without being a
 * channel member; a demoted admin may still be one): asks ChannelPolicy.read about each channel as it is now and
 * revokes only those the user lost. Returns the revoked channel ids.
 */
export async function revokeLostChannelAccess(
  deps: Deps,
  userId: string,
  channelIds: readonly string[],
  platformRole?: PlatformRole,
): Promise<string[]> {
  if (channelIds.length === 0) return [];
  const em = deps.orm.em.fork();
  // ChannelPolicy.read looks at the loaded access and the platform role only; there is no session here.
  const subject: Actor = { userId, sessionId: '', role: platformRole ?? (await loadPlatformRole(db(em), userId)) };
  const accesses = await loadChannelAccessMany(
    em,
    channelIds.map((channelId) => ({ userId, channelId })),
  );
  const lost = channelIds.filter((channelId) => {
    const access = accesses.get(accessKey(userId, channelId));
    return !access || !ChannelPolicy.read(subject, access);
  });
  await revokeChannelAccess(deps, userId, lost);
  return lost;
}
