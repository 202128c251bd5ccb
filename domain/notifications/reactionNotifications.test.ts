import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MessageDto } from '../../contracts/chat.ts';
import type { NotificationDto, NotificationList } from '../../contracts/notifications.ts';
import { seedWorld } from '../../test/communities.ts';
import { call, connectSocket, emitOk, ok, type TestUser } from '../../test/factories.ts';
import { commentAs, postAs, reactAs } from '../../test/feedFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { notifyAboutReactions, REACTION_DEBOUNCE_MS, reactionCountJob, reactionsKey, type ReactedItem } from './reactionNotifications.ts';

/*
 * Reactions make ONE notification per item for its author, which grows ("Ana and 19 others reacted to your post"),
 * moves to the top and is unread again when someone new reacts. Toggles queue the item's count (one pending job per
 * item, its time kept by later toggles); the tests run that count when they choose, or make the queued job due now and
 * let the node run it.
 */
describe('aggregated reaction notifications', () => {
  let node: RunningNode;
  beforeAll(async () => {
    node = await startNode();
  });
  afterAll(async () => {
    await node?.close();
  });

  const reactionsOf = async (user: TestUser) =>
    (await ok(call<NotificationList>(node, 'GET', '/notifications', user))).data.filter((n) => n.kind === 'reaction');
  async function countJob(on: ReactedItem, id: string) {
    const { rows } = await sql<{ id: string; run_at: Date }>`
      select j.id, j.run_at from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
      where j.key = ${reactionsKey(on, id)} and t.identifier = 'notifications.reactions'
    `.execute(dbOf(node));
    return rows[0];
  }
  const run = (on: ReactedItem, id: string) => notifyAboutReactions(node.node.deps, on, id);
  const reactComment = (user: TestUser, commentId: string, emoji = '👍') =>
    ok(call(node, 'POST', `/comments/${commentId}/reactions`, user, { emoji }));

  it('twenty people reacting to a post make one notification that grows, moves up and is unread again', async () => {
    const { author, ana, communityId } = await seedWorld(node, { people: { author: 'member', ana: 'member' } });
    const post = await postAs(node, author, communityId, 'Finished my first course!');

    await reactAs(node, ana, post.id, '🎉');
    const queued = await countJob('post', post.id);
    expect(queued).toBeDefined();
    const delay = queued!.run_at.getTime() - Date.now();
    expect(delay).toBeGreaterThan(REACTION_DEBOUNCE_MS - 10_000);
    expect(delay).toBeLessThanOrEqual(REACTION_DEBOUNCE_MS);
    // More toggles join the pending count: still one job, still due when the first toggle set it.
    await reactAs(node, ana, post.id, '👍');
    await reactAs(node, author, post.id, '👍');
    expect(await countJob('post', post.id)).toEqual(queued);

    expect(await run('post', post.id)).toBe(1);
    const [first] = await reactionsOf(author);
    expect(first).toMatchObject({
      title: `${ana.user.displayName} reacted to your post`,
      body: 'Finished my first course!',
      url: `/app/c/${communityId}/feed?post=${post.id}`,
      actor: { id: ana.user.id },
      communityId,
      readAt: null,
    });
    await ok(call(node, 'POST', '/notifications/read', author, { ids: [first!.id] }));

    // Counted again with nothing new: no change, still read.
    await run('post', post.id);
    expect((await reactionsOf(author))[0]).toEqual({ ...first, readAt: expect.any(String) });

    // Nineteen more, written straight into the tables (the toggle route is Ana's above), each a moment after the last.
    const crowd = Array.from({ length: 19 }, (_, i) => ({ id: crypto.randomUUID(), name: `Fan ${i + 1} ${post.id.slice(0, 6)}` }));
    await dbOf(node)
      .insertInto('users')
      .values(crowd.map((p) => ({ id: p.id, email: `${p.id}@example.test`, password_hash: 'not a hash', display_name: p.name })))
      .execute();
    await dbOf(node)
      .insertInto('community_members')
      .values(crowd.map((p) => ({ community_id: communityId, user_id: p.id, role: 'member' as const })))
      .execute();
    const base = Date.now();
    await dbOf(node)
      .insertInto('post_reactions')
      .values(crowd.map((p, i) => ({ post_id: post.id, user_id: p.id, emoji: '❤️', created_at: new Date(base + i) })))
      .execute();
    // Counted once the last of them is in the past.
    await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await run('post', post.id)).toBe(20);
    const all = await reactionsOf(author);
    expect(all).toHaveLength(1);
    const grown = all[0]!;
    expect(grown.id).toBe(first!.id);
    expect(grown).toMatchObject({ title: `${crowd[18]!.name} and 19 others reacted to your post`, actor: { id: crowd[18]!.id }, readAt: null });
    expect(new Date(grown.createdAt).getTime()).toBeGreaterThan(new Date(first!.createdAt).getTime());
    expect((await dbOf(node).selectFrom('notifications').select('id').where('user_id', '=', author.user.id).execute()).length).toBe(1);

    // Two people take theirs back: the words follow, quietly (no move, still as read as it was).
    await ok(call(node, 'POST', '/notifications/read', author, { ids: [grown.id] }));
    await dbOf(node).deleteFrom('post_reactions').where('post_id', '=', post.id).where('user_id', 'in', [crowd[18]!.id, crowd[17]!.id]).execute();
    expect(await run('post', post.id)).toBe(18);
    const shrunk = (await reactionsOf(author))[0]!;
    expect(shrunk).toMatchObject({ title: `${crowd[16]!.name} and 17 others reacted to your post`, createdAt: grown.createdAt });
    expect(shrunk.readAt).not.toBeNull();
  });

  it('self-reactions, reactions of people the author blocked and reactions taken back before the count notify nothing', async () => {
    const { author, ana, ben, communityId } = await seedWorld(node, { people: { author: 'member', ana: 'member', ben: 'moderator' } });
    const post = await postAs(node, author, communityId, 'Hello');
    const comment = await commentAs(node, author, post.id, 'My own comment');

    await reactComment(author, comment.id);
    expect(await run('comment', comment.id)).toBe(0);
    await reactComment(ana, comment.id);
    await reactComment(ana, comment.id);
    expect(await countJob('comment', comment.id)).toBeDefined();
    await reactionCountJob(node.node.deps)({ on: 'comment', id: comment.id }, { id: '0', attempts: 1, maxAttempts: 1 });
    expect(await run('comment', comment.id)).toBe(0);

    // A moderator still opens the post of someone who blocked them; their reaction is not counted for the author.
    await ok(call(node, 'POST', `/users/${ben.user.id}/block`, author), 204);
    await reactAs(node, ben, post.id, '👎');
    expect(await run('post', post.id)).toBe(0);
    expect(await reactionsOf(author)).toEqual([]);

    await reactComment(ana, comment.id, '🙂');
    expect(await run('comment', comment.id)).toBe(1);
    expect((await reactionsOf(author)).map((n) => n.title)).toEqual([`${ana.user.displayName} reacted to your comment`]);
  });

  it('reactions to a chat message: the queued count, run by the node, tells the author once', async () => {
    const world = await seedWorld(node, { people: { author: 'member', ana: 'member' }, channels: [{ name: 'general' }] });
    const { author, ana, communityId } = world;
    const general = world.channels.general;
    const authorSocket = await connectSocket(node.url, author.accessToken);
    const anaSocket = await connectSocket(node.url, ana.accessToken);
    try {
      const message = (await emitOk(authorSocket, 'message:send', { channelId: general, clientId: `react-${Date.now()}`, body: 'Lunch at noon?' })) as MessageDto;
      await emitOk(anaSocket, 'reaction:toggle', { messageId: message.id, emoji: '👍' });
      await emitOk(authorSocket, 'reaction:toggle', { messageId: message.id, emoji: '👍' });
      const job = await countJob('message', message.id);
      expect(job).toBeDefined();
      // Make the pending count due now: the node's job runner runs it.
      await sql`select graphile_worker.reschedule_jobs(array[${job!.id}]::bigint[], run_at => now())`.execute(dbOf(node));
      const notification = await vi.waitFor(
        async () => {
          const found = await reactionsOf(author);
          if (found.length !== 1) throw new Error(`${found.length} reaction notifications`);
          return found[0]!;
        },
        { timeout: 10_000, interval: 50 },
      );
      expect(notification).toMatchObject<Partial<NotificationDto>>({
        title: `${ana.user.displayName} reacted to your message`,
        body: 'Lunch at noon?',
        url: `/app/c/${communityId}/${general}?message=${message.id}`,
        actor: { id: ana.user.id, displayName: ana.user.displayName },
      });
      expect(await reactionsOf(ana)).toEqual([]);
    } finally {
      authorSocket.close();
      anaSocket.close();
    }
  });
});
