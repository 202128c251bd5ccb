import type { ChannelDto, UserRef } from '../../contracts/communities.ts';
import { rooms } from '../../contracts/realtime.ts';
import { ChannelPolicy } from '../chat/access.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { accessOfRow, channelSummarySql, loadChannelSummary, type ChannelSummaryRow } from './channelQueries.ts';
import { presentChannel } from './presenters.ts';
import { announceChannelAdded } from './revoke.ts';

/** Group DMs hold at most this many people, the caller included. */
export const GROUP_DM_MAX_PEOPLE = 10;

/** 1:1 DMs are unique per pair: the sorted ids joined by ':' (channels.dm_key has a unique index). */
export const dmKeyOf = (a: string, b: string) => [a, b].sort().join(':');

const CANNOT_MESSAGE = 'You cannot message this person.';

/** Other members of each channel, as UserRefs (never e-mails). */
async function membersOf(sql: Sql, channelIds: string[], exceptUserId: string): Promise<Map<string, UserRef[]>> {
  const byChannel = new Map<string, UserRef[]>(channelIds.map((id) => [id, []]));
  if (!channelIds.length) return byChannel;
  const rows = await sql<{ channel_id: string; id: string; display_name: string }>(
    `select cm.channel_id, u.id, u.display_name from channel_members cm join users u on u.id = cm.user_id
     where cm.channel_id = any(?::uuid[]) and cm.user_id <> ?
     order by lower(u.display_name), u.id`,
    [channelIds, exceptUserId],
  );
  for (const row of rows) byChannel.get(row.channel_id)?.push({ id: row.id, displayName: row.display_name });
  return byChannel;
}

/**
 * Opens the 1:1 DM with one person (the existing one when there is one) or a new group DM with several. Refused
 * when a block exists either way between the caller and any of them.
 */
export async function openDm(deps: Deps, actor: Actor, userIds: string[]): Promise<{ channel: ChannelDto; created: boolean }> {
  const others = [...new Set(userIds)].filter((id) => id !== actor.userId);
  if (!others.length) {
    throw new AppError('invalid_input', 'Pick at least one other person.', { details: { fields: { userIds: 'Pick at least one other person.' } } });
  }
  if (others.length > GROUP_DM_MAX_PEOPLE - 1) {
    throw new AppError('invalid_input', `Group DMs have at most ${GROUP_DM_MAX_PEOPLE} people.`);
  }
  const em = deps.orm.em.fork();
  const result = await em.transactional(async (tx) => {
    const sql = sqlOf(tx);
    const found = await sql<{ id: string }>('select id from users where id = any(?::uuid[])', [others]);
    if (found.length !== others.length) throw new AppError('not_found', others.length === 1 ? 'No such user.' : 'One of these people does not exist.');
    const [block] = await sql(
      `select 1 as blocked from user_blocks
       where (blocker_id = ? and blocked_id = any(?::uuid[])) or (blocked_id = ? and blocker_id = any(?::uuid[]))
       limit 1`,
      [actor.userId, others, actor.userId, others],
    );
    if (block) throw new AppError('forbidden', others.length === 1 ? CANNOT_MESSAGE : 'You cannot message one of these people.');

    let channelId: string = crypto.randomUUID();
    let created: boolean;
    if (others.length === 1) {
      const dmKey = dmKeyOf(actor.userId, others[0]!);
      // Concurrency-safe de-duplication: the unique index decides; a loser waits for the winner's commit and reads it.
      const inserted = await sql(
        `insert into channels (id, kind, visibility, dm_key, created_by_id) values (?, 'dm', 'private', ?, ?)
         on conflict (dm_key) where dm_key is not null do nothing returning id`,
        [channelId, dmKey, actor.userId],
      );
      created = inserted.length > 0;
      if (!created) {
        const [existing] = await sql<{ id: string }>('select id from channels where dm_key = ?', [dmKey]);
        if (!existing) throw new AppError('unavailable', 'The conversation is being created; try again.');
        channelId = existing.id;
      }
    } else {
      await sql(`insert into channels (id, kind, visibility, created_by_id) values (?, 'group_dm', 'private', ?)`, [channelId, actor.userId]);
      created = true;
    }
    await sql(
      `insert into channel_members (channel_id, user_id) select ?::uuid, unnest(?::uuid[]) on conflict do nothing`,
      [channelId, [actor.userId, ...others]],
    );
    const row = (await loadChannelSummary(sql, actor.userId, channelId))!;
    const members = await membersOf(sql, [channelId], actor.userId);
    return { channel: presentChannel(row, members.get(channelId)), created };
  });
  if (result.created) {
    for (const userId of [actor.userId, ...others]) announceChannelAdded(deps, rooms.user(userId), result.channel.id, null);
  }
  return result;
}

/**
 * The caller's DMs and group DMs, most recently active first, each with its other members. A 1:1 DM whose other
 * person has blocked the caller is hidden from the caller (the blocker still sees it).
 */
export async function listDms(deps: Deps, actor: Actor): Promise<ChannelDto[]> {
  const sql = sqlOf(deps.orm.em.fork());
  const rows = await sql<ChannelSummaryRow>(
    channelSummarySql(
      `c.kind in ('dm', 'group_dm') and mine.user_id is not null
       and not (c.kind = 'dm' and exists (
         select 1 from channel_members o join user_blocks b on b.blocker_id = o.user_id and b.blocked_id = me.id
         where o.channel_id = c.id and o.user_id <> me.id))`,
      `coalesce((select m.created_at from messages m where m.channel_id = c.id order by m.seq desc limit 1), c.created_at) desc, c.id`,
    ),
    [actor.userId],
  );
  const readable = rows.filter((row) => ChannelPolicy.read(actor, accessOfRow(row, null)));
  const members = await membersOf(
    sql,
    readable.map((r) => r.id),
    actor.userId,
  );
  return readable.map((row) => presentChannel(row, members.get(row.id)));
}
