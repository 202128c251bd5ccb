import type { ChannelDto, CommunityRole, CreateChannelInput } from '../../contracts/communities.ts';
import { rooms } from '../../contracts/realtime.ts';
import { authorizeChannel, ChannelPolicy } from '../chat/access.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { isUniqueViolation, sqlOf } from '../shared/sql.ts';
import { accessOfRow, channelSummarySql, loadChannelSummary, type ChannelSummaryRow } from './channelQueries.ts';
import { loadCommunityAccess } from './membership.ts';
import { CommunityPolicy } from './policies.ts';
import { presentChannel } from './presenters.ts';
import { announceChannelAdded, revokeLostChannelAccess } from './revoke.ts';

const NAME_TAKEN = (name: string) => new AppError('conflict', `A channel named #${name} already exists in this community.`);
const MANAGING: readonly (CommunityRole | null)[] = ['owner', 'admin'];

export async function createChannel(deps: Deps, actor: Actor, communityId: string, input: CreateChannelInput): Promise<ChannelDto> {
  const em = deps.orm.em.fork();
  const channel = await em.transactional(async (tx) => {
    const sql = sqlOf(tx);
    const access = await loadCommunityAccess(sql, actor.userId, communityId);
    if (!CommunityPolicy.createChannel(access)) throw new AppError('forbidden', 'Only community owners and admins can create channels.');
    const id = crypto.randomUUID();
    // The case-insensitive unique index decides, also between concurrent creators.
    const created = await sql(
      `insert into channels (id, community_id, kind, name, topic, visibility, created_by_id)
       values (?, ?, 'channel', ?, ?, ?, ?)
       on conflict (community_id, lower(name)) where kind = 'channel' do nothing returning id`,
      [id, communityId, input.name, input.topic, input.visibility, actor.userId],
    );
    if (!created.length) throw NAME_TAKEN(input.name);
    if (input.visibility === 'private') {
      await sql('insert into channel_members (channel_id, user_id) values (?, ?)', [id, actor.userId]);
    }
    return presentChannel((await loadChannelSummary(sql, actor.userId, id))!);
  });
  // Public: every connected member (they are all in the community's presence room); private: the creator's devices.
  const room = channel.visibility === 'public' ? rooms.communityPresence(communityId) : rooms.user(actor.userId);
  announceChannelAdded(deps, room, channel.id, communityId);
  return channel;
}

/** The community's channels the caller may read, with unread and mention counts, in one query. */
export async function listChannels(deps: Deps, actor: Actor, communityId: string): Promise<ChannelDto[]> {
  const sql = sqlOf(deps.orm.em.fork());
  const access = await loadCommunityAccess(sql, actor.userId, communityId);
  if (!CommunityPolicy.listChannels(access)) throw new AppError('forbidden', 'Join the community to see its channels.');
  // The SQL pre-filter keeps counts from being computed for channels the caller cannot read; ChannelPolicy.read
  // has the final word below, so a divergence can only hide a channel, never leak one.
  const rows = await sql<ChannelSummaryRow>(
    channelSummarySql(
      `c.community_id = ? and c.kind = 'channel' and (c.visibility = 'public' or mine.user_id is not null or ?::boolean)`,
      'lower(c.name), c.id',
    ),
    [actor.userId, communityId, MANAGING.includes(access.role)],
  );
  return rows
    .filter((row) => ChannelPolicy.read(actor, accessOfRow(row, access.role)))
    .map((row) => presentChannel(row));
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
      const sql = sqlOf(tx);
      await authorizeChannel(tx, actor, channelId, 'manage');
      const sets: string[] = [];
      const params: unknown[] = [];
      if (input.name !== undefined) {
        sets.push('name = ?');
        params.push(input.name);
      }
      if (input.topic !== undefined) {
        sets.push('topic = ?');
        params.push(input.topic);
      }
      if (input.archived !== undefined) sets.push(input.archived ? 'archived_at = coalesce(archived_at, now())' : 'archived_at = null');
      if (sets.length) await sql(`update channels set ${sets.join(', ')} where id = ?`, [...params, channelId]);
      return presentChannel((await loadChannelSummary(sql, actor.userId, channelId))!);
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
    const sql = sqlOf(tx);
    const access = await authorizeChannel(tx, actor, channelId, 'manage');
    if (access.visibility === 'public') {
      throw new AppError('invalid_input', 'Public channels are open to every community member; only private channels have members.');
    }
    const [member] = await sql('select 1 as ok from community_members where community_id = ? and user_id = ?', [access.communityId, userId]);
    if (!member) throw new AppError('not_found', 'That user is not a member of this community.');
    await sql('insert into channel_members (channel_id, user_id) values (?, ?) on conflict do nothing', [channelId, userId]);
    return access.communityId;
  });
  announceChannelAdded(deps, rooms.user(userId), channelId, communityId);
}

/**
 * Managers remove anyone from a private channel; anyone may leave a private channel or a group DM themselves. The
 * removed user's sockets leave the room on every node, unless they can still read it (community owners and admins).
 */
export async function removeChannelMember(deps: Deps, actor: Actor, channelId: string, userId: string): Promise<void> {
  const em = deps.orm.em.fork();
  await em.transactional(async (tx) => {
    const self = userId === actor.userId;
    const access = await authorizeChannel(tx, actor, channelId, self ? 'read' : 'manage');
    if (access.kind === 'dm') throw new AppError('forbidden', 'You cannot leave a direct conversation; block the person instead.');
    const removed = await sqlOf(tx)('delete from channel_members where channel_id = ? and user_id = ? returning user_id', [channelId, userId]);
    if (!removed.length) throw new AppError('not_found', 'That user is not a member of this channel.');
  });
  await revokeLostChannelAccess(deps, userId, [channelId]);
}
