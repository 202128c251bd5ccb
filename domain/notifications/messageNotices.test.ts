import { describe, expect, inject, it } from 'vitest';
import type { MessageDto } from '../../contracts/chat.ts';
import { db } from '../../orm/db.ts';
import { seedWorld } from '../../test/communities.ts';
import { emitOk, eventually, nextEvent } from '../../test/factories.ts';
import { twoNodes } from '../../test/cluster.ts';
import { dbOf } from '../../test/nodes.ts';
import { writeMessages } from '../chat/batchWrites.ts';
import { sweepMessageNotices } from './messageNotices.ts';

/*
 * Messages that may notify someone are noted with them. The sending node makes their notifications right after the
 * commit and removes the notes; a node that dies between the commit and that work leaves its notes to the sweep, which
 * makes each notification exactly once, on whichever node runs it.
 */
describe.skipIf(!inject('redisUrl'))('message notices (two nodes, one Redis)', () => {
  const two = twoNodes();
  const notesOf = (messageIds: string[]) =>
    dbOf(two.nodeA).selectFrom('message_notices').select(['message_id', 'attempts']).where('message_id', 'in', messageIds).execute();

  it('a mention is noted with its message and the note is gone once its notification exists; a plain message is not noted', async () => {
    const world = await seedWorld(two.nodeA, { people: { owner: 'owner', alice: 'member', bob: 'member' }, channels: [{ name: 'general' }] });
    const aliceSocket = await two.socketOn(two.nodeA, world.alice);
    const bobSocket = await two.socketOn(two.nodeB, world.bob);
    const arrived = nextEvent(bobSocket, 'notification:created', 10_000);
    const mention = (await emitOk(aliceSocket, 'message:send', {
      channelId: world.channels.general,
      clientId: `notice-mention-${Date.now()}`,
      body: `@${world.bob.user.displayName} have a look`,
    })) as MessageDto;
    const plain = (await emitOk(aliceSocket, 'message:send', { channelId: world.channels.general, clientId: `notice-plain-${Date.now()}`, body: 'just chatting' })) as MessageDto;
    expect((await arrived).notification).toMatchObject({ kind: 'mention', url: expect.stringContaining(mention.id) });
    await eventually(async () => (await notesOf([mention.id, plain.id])).length === 0, 5000, 'the note to be removed');
  });

  it('notes left by a node that died after the commit are made into notifications by the sweep, exactly once', async () => {
    const world = await seedWorld(two.nodeA, { people: { owner: 'owner', alice: 'member', bob: 'member', carol: 'member' }, channels: [{ name: 'general' }] });
    const { alice, bob, carol } = world;
    const bobSocket = await two.socketOn(two.nodeB, bob);
    const carolSocket = await two.socketOn(two.nodeB, carol);
    const bobHears = nextEvent(bobSocket, 'notification:created', 10_000);
    const carolHears = nextEvent(carolSocket, 'notification:created', 10_000);

    // What the send path commits, without what it does after the commit: node A "dies" there.
    const orm = two.nodeA.node.orm;
    const mentionId = crypto.randomUUID();
    const replyId = crypto.randomUUID();
    const root = (await emitOk(await two.socketOn(two.nodeA, carol), 'message:send', {
      channelId: world.channels.general,
      clientId: `notice-root-${Date.now()}`,
      body: 'a question for the thread',
    })) as MessageDto;
    await orm.em.fork().transactional(async (tx) => {
      const q = db(tx);
      const planned = [
        { id: mentionId, channelId: world.channels.general, authorId: alice.user.id, clientId: `notice-crash-1-${Date.now()}`, body: `@${bob.user.displayName} ping`, replyToId: null, mentioned: [bob.user.id], notable: true },
        { id: replyId, channelId: world.channels.general, authorId: alice.user.id, clientId: `notice-crash-2-${Date.now()}`, body: 'an answer', replyToId: root.id, mentioned: [], notable: true },
      ];
      await writeMessages(q, planned);
    });
    expect(await notesOf([mentionId, replyId])).toHaveLength(2);

    // A sweep on node B: Bob is told of the mention, Carol of the reply in her thread, each live and once.
    expect(await sweepMessageNotices(two.nodeB.node.deps, 0)).toBe(2);
    expect((await bobHears).notification).toMatchObject({ kind: 'mention', title: `${alice.user.displayName} mentioned you in #general` });
    expect((await carolHears).notification).toMatchObject({ kind: 'reply', url: expect.stringContaining(replyId) });
    expect(await notesOf([mentionId, replyId])).toEqual([]);

    // Sweeping again (or a second node doing it) makes nothing more.
    expect(await sweepMessageNotices(two.nodeA.node.deps, 0)).toBe(0);
    const stored = await dbOf(two.nodeA)
      .selectFrom('notifications')
      .select(['user_id', 'kind'])
      .where('subject_id', 'in', [mentionId, replyId])
      .orderBy('kind')
      .execute();
    expect(stored).toEqual([
      { user_id: bob.user.id, kind: 'mention' },
      { user_id: carol.user.id, kind: 'reply' },
    ]);
  });

  it('the sweep leaves a note to its own node while it is young', async () => {
    const world = await seedWorld(two.nodeA, { people: { owner: 'owner', alice: 'member', bob: 'member' }, channels: [{ name: 'general' }] });
    const id = crypto.randomUUID();
    await two.nodeA.node.orm.em.fork().transactional(async (tx) => {
      const q = db(tx);
      const planned = [
        { id, channelId: world.channels.general, authorId: world.alice.user.id, clientId: `notice-young-${Date.now()}`, body: `@${world.bob.user.displayName} hi`, replyToId: null, mentioned: [world.bob.user.id], notable: true },
      ];
      await writeMessages(q, planned);
    });
    await sweepMessageNotices(two.nodeB.node.deps);
    expect(await notesOf([id])).toEqual([{ message_id: id, attempts: 0 }]);
    expect(await dbOf(two.nodeA).selectFrom('notifications').select('id').where('subject_id', '=', id).execute()).toEqual([]);
  });

  it('a batch judges each message on its own: a recipient who blocked one author still hears from another in the same channel', async () => {
    const world = await seedWorld(two.nodeA, { people: { owner: 'owner', alice: 'member', bob: 'member', carol: 'member' }, channels: [{ name: 'general' }] });
    const { alice, bob, carol } = world;
    await dbOf(two.nodeA).insertInto('user_blocks').values({ blocker_id: bob.user.id, blocked_id: alice.user.id }).execute();
    const fromAlice = crypto.randomUUID();
    const fromCarol = crypto.randomUUID();
    await two.nodeA.node.orm.em.fork().transactional(async (tx) => {
      const q = db(tx);
      const mention = (id: string, authorId: string) => ({
        id,
        channelId: world.channels.general,
        authorId,
        clientId: `notice-batch-${id}`,
        body: `@${bob.user.displayName} see this`,
        replyToId: null,
        mentioned: [bob.user.id],
        notable: true,
      });
      await writeMessages(q, [mention(fromAlice, alice.user.id), mention(fromCarol, carol.user.id)]);
    });
    await sweepMessageNotices(two.nodeB.node.deps, 0);
    expect(await notesOf([fromAlice, fromCarol])).toEqual([]);
    const stored = await dbOf(two.nodeA).selectFrom('notifications').select('subject_id').where('user_id', '=', bob.user.id).execute();
    expect(stored).toEqual([{ subject_id: fromCarol }]);
  });
});
