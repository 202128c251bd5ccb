import { sql } from 'kysely';
import type { ChannelDto, UserRef } from '../../contracts/communities.ts';
import { db, type Db } from '../../orm/db.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { loadChannelSummary, readableChannelSummaries } from './channelQueries.ts';
import { presentChannel } from './presenters.ts';

/** Group DMs hold at most this many people, the caller included. */
export const GROUP_DM_MAX_PEOPLE = 10;

/** 1:1 DMs are unique per pair: the sorted ids joined by ':' (channels.dm_key has a unique index). */
export const dmKeyOf = (a: string, b: string) => [a, b].sort().join(':');

const CANNOT_MESSAGE = 'You cannot message this person.';
const NEW_DMS_REFUSED = 'You have started many new conversations in the last hour; try again later.';

/** Other members of each channel, as UserRefs (never e-mails). */
async function membersOf(q: Db, channelIds: string[], exceptUserId: string): Promise<Map<string, UserRef[]>> {
  const byChannel = new Map<string, UserRef[]>(channelIds.map((id) => [id, []]));
  if (!channelIds.length) return byChannel;
  const rows = await q
    .selectFrom('channel_members as cm')
    .innerJoin('users as u', 'u.id', 'cm.user_id')
    .select(['cm.channel_id', 'u.id', 'u.display_name'])
    .where((eb) => eb('cm.channel_id', '=', eb.fn.any(sql<string[]>`${channelIds}::uuid[]`)))
    .where('cm.user_id', '<>', exceptUserId)
    .orderBy((eb) => eb.fn('lower', ['u.display_name']))
    .orderBy('u.id')
    .execute();
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
  const people = [actor.userId, ...others];
  const em = deps.orm.em.fork();
  // Only new conversations spend the budget (below): reopening a 1:1 DM is free. Checked before the transaction, so a
  // spammer's next conversation costs one read.
  const reopening =
    others.length === 1 &&
    (await db(em).selectFrom('channels').select('id').where('dm_key', '=', dmKeyOf(actor.userId, others[0]!)).executeTakeFirst()) !== undefined;
  if (!reopening) await deps.actionLimits.newDms.assertAvailable(actor.userId, NEW_DMS_REFUSED);
  const result = await em.transactional(async (tx) => {
    const q = db(tx);
    const found = await q.selectFrom('users').select('id').where('id', 'in', others).execute();
    if (found.length !== others.length) throw new AppError('not_found', others.length === 1 ? 'No such user.' : 'One of these people does not exist.');
    const block = await q
      .selectFrom('user_blocks')
      .select('blocker_id')
      .where((eb) =>
        eb.or([
          eb.and([eb('blocker_id', '=', actor.userId), eb('blocked_id', 'in', others)]),
          eb.and([eb('blocked_id', '=', actor.userId), eb('blocker_id', 'in', others)]),
        ]),
      )
      .limit(1)
      .executeTakeFirst();
    if (block) throw new AppError('forbidden', others.length === 1 ? CANNOT_MESSAGE : 'You cannot message one of these people.');

    let channelId: string = crypto.randomUUID();
    let created: boolean;
    if (others.length === 1) {
      const dmKey = dmKeyOf(actor.userId, others[0]!);
      // Concurrency-safe de-duplication: the unique index decides; a loser waits for the winner's commit and reads it.
      const inserted = await q
        .insertInto('channels')
        .values({ id: channelId, kind: 'dm', visibility: 'private', dm_key: dmKey, created_by_id: actor.userId })
        .onConflict((oc) => oc.column('dm_key').where('dm_key', 'is not', null).doNothing())
        .returning('id')
        .execute();
      created = inserted.length > 0;
      if (!created) {
        const existing = await q.selectFrom('channels').select('id').where('dm_key', '=', dmKey).executeTakeFirst();
        if (!existing) throw new AppError('unavailable', 'The conversation is being created; try again.');
        channelId = existing.id;
      }
    } else {
      await q
        .insertInto('channels')
        .values({ id: channelId, kind: 'group_dm', visibility: 'private', created_by_id: actor.userId })
        .execute();
      created = true;
    }
    await q
      .insertInto('channel_members')
      .values(people.map((userId) => ({ channel_id: channelId, user_id: userId })))
      .onConflict((oc) => oc.doNothing())
      .execute();
    const row = (await loadChannelSummary(q, actor.userId, channelId))!;
    const members = await membersOf(q, [channelId], actor.userId);
    return { channel: presentChannel(row, members.get(channelId)), created };
  });
  if (result.created) {
    // Concurrent openings may all have passed the check: the conversations exist, so the budget just runs out.
    await deps.actionLimits.newDms.consume(actor.userId, 1, NEW_DMS_REFUSED).catch(() => {});
    await deps.events.emit('channel.added', { channelId: result.channel.id, communityId: null, openTo: 'users', userIds: people });
  }
  return result;
}

/**
 * The caller's DMs and group DMs, most recently active first, each with its other members. A 1:1 DM whose other
 * person has blocked the caller is not readable for the caller and so not listed (the blocker still sees it).
 */
export async function listDms(deps: Deps, actor: Actor): Promise<ChannelDto[]> {
  const q = db(deps.orm.em.fork());
  const rows = await readableChannelSummaries(q, actor)
    .where('c.kind', 'in', ['dm', 'group_dm'])
    .orderBy((eb) => {
      const lastMessageAt = eb
        .selectFrom('messages as m')
        .select('m.created_at')
        .whereRef('m.channel_id', '=', 'c.id')
        .orderBy('m.seq', 'desc')
        .limit(1)
        .$asScalar();
      return eb.fn.coalesce(lastMessageAt, 'c.created_at');
    }, 'desc')
    .orderBy('c.id')
    .execute();
  const members = await membersOf(
    q,
    rows.map((r) => r.id),
    actor.userId,
  );
  return rows.map((row) => presentChannel(row, members.get(row.id)));
}
