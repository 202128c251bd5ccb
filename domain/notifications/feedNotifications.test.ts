import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NotificationDto, NotificationList } from '../../contracts/notifications.ts';
import { seedWorld } from '../../test/communities.ts';
import { call, ok, type TestUser } from '../../test/factories.ts';
import { commentAs, moderateAs, postAs } from '../../test/feedFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { notifyAboutComment } from './feedNotifications.ts';

/*
 * Replies in the feed, through the real routes: the comment's durable event (a job run by the node) tells the post's
 * author and the author of the comment answered — once each, never the commenter themself, nobody who blocked them,
 * and nothing for a comment whose post was hidden before the job ran.
 */
describe('feed reply notifications', () => {
  let node: RunningNode;
  beforeAll(async () => {
    node = await startNode();
  });
  afterAll(async () => {
    await node?.close();
  });

  const repliesOf = async (user: TestUser) =>
    (await ok(call<NotificationList>(node, 'GET', '/notifications', user))).data.filter((n) => n.kind === 'reply');
  /** Waits for the durable listener (a job) to leave `count` reply notifications for `user`. */
  const repliesFor = (user: TestUser, count: number): Promise<NotificationDto[]> =>
    vi.waitFor(
      async () => {
        const found = await repliesOf(user);
        if (found.length !== count) throw new Error(`${found.length} reply notifications, want ${count}`);
        return found;
      },
      { timeout: 10_000, interval: 50 },
    );
  /** The durable jobs of comments are done (nothing left queued for this listener). */
  const settled = () =>
    vi.waitFor(
      async () => {
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
          where t.identifier = 'domain-event' and j.payload->>'listener' = 'notifyAboutComment'
        `.execute(dbOf(node));
        if (rows[0]!.n > 0) throw new Error(`${rows[0]!.n} comment jobs left`);
      },
      { timeout: 10_000, interval: 50 },
    );

  it('a comment tells the post author, a reply tells the comment author; never the actor themself', async () => {
    const { author, ana, ben, communityId } = await seedWorld(node, { people: { author: 'member', ana: 'member', ben: 'member' } });
    const post = await postAs(node, author, communityId, 'Which book first?');

    const first = await commentAs(node, ana, post.id, 'The blue one.');
    const [toAuthor] = await repliesFor(author, 1);
    expect(toAuthor).toMatchObject({
      title: `${ana.user.displayName} commented on your post`,
      body: 'The blue one.',
      url: `/app/c/${communityId}/feed?post=${post.id}`,
      actor: { id: ana.user.id, displayName: ana.user.displayName },
      communityId,
      readAt: null,
    });

    await commentAs(node, ben, post.id, 'Agreed, the blue one.', first.id);
    const [toAna] = await repliesFor(ana, 1);
    expect(toAna).toMatchObject({ title: `${ben.user.displayName} replied to your comment`, body: 'Agreed, the blue one.' });
    const toAuthorNow = await repliesFor(author, 2);
    expect(toAuthorNow[0]!.title).toBe(`${ben.user.displayName} commented on your post`);

    // The post's author answering in the thread tells Ana (a reply to a reply still reaches the one answered), not
    // themself; commenting on their own post tells nobody.
    const benReply = (await dbOf(node).selectFrom('comments').select('id').where('parent_id', '=', first.id).executeTakeFirstOrThrow()).id;
    await commentAs(node, author, post.id, 'Thanks both!', benReply);
    await commentAs(node, author, post.id, 'Edit: the red one is also fine.');
    const [toBen] = await repliesFor(ben, 1);
    expect(toBen!.title).toBe(`${author.user.displayName} replied to your comment`);
    await settled();
    expect(await repliesOf(author)).toHaveLength(2);
    expect(await repliesOf(ana)).toHaveLength(1);

    // Heard again (a retried job): nothing new.
    expect(await notifyAboutComment(node.node.deps, first.id, null)).toBe(0);
    expect(await repliesOf(author)).toHaveLength(2);
  });

  it('nobody hears from someone they blocked, and a comment under a post hidden before the job ran notifies nobody', async () => {
    const { author, ana, moderator, communityId } = await seedWorld(node, { people: { author: 'member', ana: 'member', moderator: 'moderator' } });
    const post = await postAs(node, author, communityId, 'Quiet, please.');
    await ok(call(node, 'POST', `/users/${moderator.user.id}/block`, author), 204);
    // A moderator still opens (and comments on) the post of someone who blocked them; the author hears nothing of it.
    await commentAs(node, moderator, post.id, 'Noted.');
    await commentAs(node, ana, post.id, 'Shh.');
    const [fromAna] = await repliesFor(author, 1);
    expect(fromAna!.actor?.id).toBe(ana.user.id);

    const other = await postAs(node, ana, communityId, 'Ana speaks.');
    const { id: commentId } = await commentAs(node, moderator, other.id, 'Hidden soon.');
    await moderateAs(node, moderator, { type: 'post', id: other.id }, { hide: true });
    await settled();
    expect((await repliesOf(author)).map((n) => n.actor?.id)).toEqual([ana.user.id]);
    // Whatever the job saw, the hidden post's comment makes nothing now.
    await dbOf(node).deleteFrom('notifications').where('user_id', '=', ana.user.id).execute();
    expect(await notifyAboutComment(node.node.deps, commentId, null)).toBe(0);
    expect(await repliesOf(ana)).toEqual([]);
  });
});
