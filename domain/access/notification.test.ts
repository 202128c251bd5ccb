import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCommunity, seedWorld } from '../../test/communities.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { countUnread, countUnreadOf } from '../notifications/inbox.ts';
import { notificationVisibleTo } from './notification.ts';

/*
 * notificationVisibleTo narrowed to the subject types a caller read first (countUnread does, so PostgreSQL plans only
 * those rules) must answer exactly as the whole predicate does for rows of those types: for every subset of the types
 * a recipient holds, visible and not, including ones whose actor they blocked. The unread count agrees with both.
 */
describe('notification visibility narrowed to subject types', () => {
  let node: RunningNode;
  beforeAll(async () => {
    node = await startNode();
  });
  afterAll(async () => {
    await node?.close();
  });

  it('shows the same rows and counts as the whole predicate, for every subset of the types held', async () => {
    const q = dbOf(node);
    const world = await seedWorld(node, { people: { reader: 'member', author: 'member', blocked: 'member' }, channels: [{ name: 'general' }] });
    const elsewhere = await seedCommunity(node, { members: [{ userId: world.author.user.id }], channels: [{ name: 'secret' }], visibility: 'private' });
    const { reader, author, blocked } = world;
    const message = async (channelId: string, gone: 'hidden' | 'deleted' | null = null) => {
      const id = crypto.randomUUID();
      const seq = Number((await sql<{ seq: string }>`update channels set last_seq = last_seq + 1 where id = ${channelId} returning last_seq as seq`.execute(q)).rows[0]!.seq);
      await q
        .insertInto('messages')
        .values({ id, channel_id: channelId, seq, author_id: author.user.id, client_id: crypto.randomUUID(), body: 'hi', hidden_at: gone === 'hidden' ? new Date() : null, deleted_at: gone === 'deleted' ? new Date() : null })
        .execute();
      return id;
    };
    await q.insertInto('user_blocks').values({ blocker_id: reader.user.id, blocked_id: blocked.user.id }).execute();
    const about = [
      { type: 'message', id: await message(world.channels.general), visible: true },
      { type: 'message', id: await message(world.channels.general), visible: true },
      { type: 'message', id: await message(world.channels.general, 'hidden'), visible: false },
      { type: 'message', id: await message(world.channels.general, 'deleted'), visible: false },
      { type: 'message', id: await message(world.channels.general), visible: false, actor: blocked.user.id },
      { type: 'message', id: crypto.randomUUID(), visible: false },
      { type: 'message', id: await message(elsewhere.channels.secret), visible: false },
      { type: 'community', id: world.communityId, visible: true },
      { type: 'community', id: elsewhere.communityId, visible: false },
      { type: 'post', id: crypto.randomUUID(), visible: false },
      { type: 'lesson', id: crypto.randomUUID(), visible: false },
      { type: 'classroom', id: crypto.randomUUID(), visible: false },
      { type: 'order', id: crypto.randomUUID(), visible: true },
      { type: 'order', id: crypto.randomUUID(), visible: false, actor: blocked.user.id },
      { type: 'user', id: author.user.id, visible: true },
    ];
    const rows = about.map((a, i) => ({
      id: crypto.randomUUID(),
      user_id: reader.user.id,
      kind: 'mention',
      source_key: `t:${i}`,
      actor_id: a.actor ?? author.user.id,
      subject_type: a.type,
      subject_id: a.id,
      title: `n${i}`,
      url: '/app',
    }));
    await q.insertInto('notifications').values(rows).execute();
    const expected = new Set(rows.filter((_, i) => about[i]!.visible).map((r) => r.id));

    const visible = async (subjects?: string[]) =>
      new Set(
        (
          await q
            .selectFrom('notifications as n')
            .select('n.id')
            .where('n.user_id', '=', reader.user.id)
            .where(notificationVisibleTo(q, reader.user.id, subjects))
            .execute()
        ).map((r) => r.id),
      );
    const whole = await visible();
    expect(whole).toEqual(expected);

    const types = [...new Set(about.map((a) => a.type))];
    for (let mask = 0; mask < 1 << types.length; mask++) {
      const subset = types.filter((_, i) => mask & (1 << i));
      const narrowed = await visible(subset);
      const wanted = new Set(rows.filter((r) => whole.has(r.id) && subset.includes(r.subject_type)).map((r) => r.id));
      expect(narrowed, subset.join(',')).toEqual(wanted);
    }
    // The unread count (messages counted by channel access, the rest by the narrowed predicate) agrees, before and
    // after some are read.
    expect(await countUnread(q, reader.user.id)).toBe(expected.size);
    const read = [rows[0]!.id, rows[8]!.id, rows[3]!.id];
    await q.updateTable('notifications').set({ read_at: new Date() }).where('id', 'in', read).execute();
    const readerCount = [...expected].filter((id) => !read.includes(id)).length;
    expect(await countUnread(q, reader.user.id)).toBe(readerCount);

    // Several recipients in one call each get their own count: the author may read the private community's channel.
    const toAuthor = (i: number, type: string, id: string) => ({
      id: crypto.randomUUID(),
      user_id: author.user.id,
      kind: 'mention',
      source_key: `t:author:${i}`,
      actor_id: reader.user.id,
      subject_type: type,
      subject_id: id,
      title: `a${i}`,
      url: '/app',
    });
    await q.insertInto('notifications').values([toAuthor(1, 'message', about[6]!.id), toAuthor(2, 'community', elsewhere.communityId)]).execute();
    expect(await countUnreadOf(q, [reader.user.id, author.user.id, blocked.user.id])).toEqual(
      new Map([
        [reader.user.id, readerCount],
        [author.user.id, 2],
        [blocked.user.id, 0],
      ]),
    );
  });
});
