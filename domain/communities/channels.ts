import { sql } from 'kysely';
import type { ChannelDto, CreateChannelInput } from '../../contracts/communities.ts';
import { db } from '../../orm/db.ts';
import { authorizeChannel } from '../access/channel.ts';
import { AppError, isUniqueViolation } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { loadChannelSummary, readableChannelSummaries } from './channelQueries.ts';
import { loadCommunityAccess } from '../access/community.ts';
import { CommunityPolicy } from '../access/community.ts';
import { presentChannel } from './presenters.ts';
import { revokeLostChannelAccess } from './revoke.ts';

const NAME_TAKEN = (name: string) => new AppError('conflict', `A channel named #${name} already exists in this community.`);

export async function createChannel(deps: Deps, actor: Actor, communityId: string, input: CreateChannelInput): Promise<ChannelDto> {
  const em = deps.orm.em.fork();
  const channel = await em.transactional(async (tx) => {
    const q = db(tx);
    const access = await loadCommunityAccess(q, actor.userId, communityId);
    if (!CommunityPolicy.createChannel(access)) throw new AppError('forbidden', 'Only community owners and admins can create channels.');
    const id = crypto.randomUUID();
    // The case-insensitive unique index decides, also between concurrent creators.
    const created = await q
      .insertInto('channels')
      .values({
        id,
        community_id: communityId,
        kind: 'channel',
        name: input.name,
        topic: input.topic,
        visibility: input.visibility,
        created_by_id: actor.userId,
      })
      .onConflict((oc) => oc.expression(sql`community_id, lower(name)`).where('kind', '=', sql.lit<'channel'>('channel')).doNothing())
      .returning('id')
      .execute();
    if (!created.length) throw NAME_TAKEN(input.name);
    if (input.visibility === 'private') {
      await q.insertInto('channel_members').values({ channel_id: id, user_id: actor.userId }).execute();
    }
    return presentChannel((await loadChannelSummary(q, actor.userId, id))!);
  });
  await deps.events.emit(
    'channel.added',
    channel.visibility === 'public'
      ? { channelId: channel.id, communityId, openTo: 'members' }
      : { channelId: channel.id, communityId, openTo: 'users', userIds: [actor.userId] },
  );
  return channel;
}

/** The community's channels the caller may read (ChannelPolicy.read as a query), with unread and mention counts, in one query. */
export async function listChannels(deps: Deps, actor: Actor, communityId: string): Promise<ChannelDto[]> {
  const q = db(deps.orm.em.fork());
  const access = await loadCommunityAccess(q, actor.userId, communityId);
  if (!CommunityPolicy.listChannels(access)) throw new AppError('forbidden', 'Join the community to see its channels.');
  const rows = await readableChannelSummaries(q, actor)
    .where('c.community_id', '=', communityId)
    .where('c.kind', '=', 'channel')
    .orderBy(sql`lower(c.name)`)
    .orderBy('c.id')
    .execute();
  return rows.map((row) => presentChannel(row));
}

export async function updateChannel(
  deps: Deps,
  actor: Actor,
  channelId: string,
  input: { name?: string; topic?: string; archived?: boolean },
): Promise<ChannelDto> {
  const em = deps.orm.em.fork();
  try {
    return await em.transactional(async (tx) => {
      const q = db(tx);
      await authorizeChannel(q, actor, channelId, 'manage');
      const changes = {
        ...(input.name !== undefined && { name: input.name }),
        ...(input.topic !== undefined && { topic: input.topic }),
        // Archiving again keeps the first archiving time.
        ...(input.archived !== undefined && { archived_at: input.archived ? sql<Date>`coalesce(archived_at, now())` : null }),
      };
      if (Object.keys(changes).length) await q.updateTable('channels').set(changes).where('id', '=', channelId).execute();
      return presentChannel((await loadChannelSummary(q, actor.userId, channelId))!);
    });
  } catch (err) {
    if (isUniqueViolation(err, 'channels_community_name_unique')) throw NAME_TAKEN(input.name ?? '');
    throw err;
  }
}

/** Private channels only: public ones are open to every community member. The user must belong to the community. */
export async function addChannelMember(deps: Deps, actor: Actor, channelId: string, userId: string): Promise<void> {
  const em = deps.orm.em.fork();
  const communityId = await em.transactional(async (tx) => {
    const q = db(tx);
    const access = await authorizeChannel(q, actor, channelId, 'manage');
    if (access.visibility === 'public') {
      throw new AppError('invalid_input', 'Public channels are open to every community member; only private channels have members.');
    }
    const member = await q
      .selectFrom('community_members')
      .select('user_id')
      // `manage` is for community channels only (ChannelPolicy.manage), so the channel has a community.
      .where('community_id', '=', access.communityId!)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!member) throw new AppError('not_found', 'That user is not a member of this community.');
    await q.insertInto('channel_members').values({ channel_id: channelId, user_id: userId }).onConflict((oc) => oc.doNothing()).execute();
    return access.communityId;
  });
  await deps.events.emit('channel.added', { channelId, communityId, openTo: 'users', userIds: [userId] });
}

/**
 * Managers remove anyone from a private channel; anyone may leave a private channel or a group DM themselves. The
 * removed user's sockets leave the room on every node, unless they can still read it (community owners and admins).
 */
export async function removeChannelMember(deps: Deps, actor: Actor, channelId: string, userId: string): Promise<void> {
  const em = deps.orm.em.fork();
  await em.transactional(async (tx) => {
    const q = db(tx);
    const self = userId === actor.userId;
    const access = await authorizeChannel(q, actor, channelId, self ? 'read' : 'manage');
    if (access.kind === 'dm') throw new AppError('forbidden', 'You cannot leave a direct conversation; block the person instead.');
    const removed = await q
      .deleteFrom('channel_members')
      .where('channel_id', '=', channelId)
      .where('user_id', '=', userId)
      .returning('user_id')
      .execute();
    if (!removed.length) throw new AppError('not_found', 'That user is not a member of this channel.');
  });
  await revokeLostChannelAccess(deps, userId, [channelId]);
}
