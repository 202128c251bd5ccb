import { db, type Db } from '../../orm/db.ts';
import { commentVisibleToMembers } from '../access/comment.ts';
import { FeedPolicy, loadFeedAccess } from '../access/feed.ts';
import { selectedFlag } from '../access/post.ts';
import '../feed/events.ts';
import type { Deps } from '../shared/deps.ts';
import type { EventBus } from '../shared/events.ts';
import { notify, type NewNotification } from './notify.ts';

/*
 * Replies in the feed: a comment tells the post's author ("commented on your post"), a reply tells the author of the
 * comment it answers ("replied to your comment"; when that is the post's author too, the reply wins — one
 * notification). Never the commenter themself, nobody who blocked them, nobody who can no longer read the community's
 * feed, and nothing once the comment, its thread or its post is hidden or deleted before this ran. The feed records
 * `comment.written` in the comment's transaction, so a node dying right after the commit still notifies; the
 * notification's key (`comment:<id>` per recipient) keeps a retried job to one.
 */

/** Where a post is read in the app: its community's feed, with the post to bring into view. */
export const postUrl = (communityId: string, postId: string) => `/app/c/${communityId}/feed?post=${postId}`;

async function loadWrittenComment(q: Db, commentId: string) {
  return q
    .selectFrom('comments as c')
    .innerJoin('posts as p', 'p.id', 'c.post_id')
    .innerJoin('users as a', 'a.id', 'c.author_id')
    .select(['c.id', 'c.post_id', 'c.community_id', 'c.author_id', 'c.body', 'p.author_id as post_author_id', 'a.display_name'])
    .select(selectedFlag(commentVisibleToMembers()).as('visible'))
    .where('c.id', '=', commentId)
    .executeTakeFirst();
}

/** Whether `userId` still reads the community's feed and has not blocked `actorId`. */
async function mayHear(deps: Deps, q: Db, userId: string, communityId: string, actorId: string): Promise<boolean> {
  const user = await q
    .selectFrom('users as u')
    .select('u.role')
    .where('u.id', '=', userId)
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom('user_blocks as b').select('b.blocker_id').where('b.blocker_id', '=', userId).where('b.blocked_id', '=', actorId))),
    )
    .executeTakeFirst();
  if (!user) return false;
  const access = await loadFeedAccess(q, userId, communityId, deps.clock.now());
  return access !== null && FeedPolicy.read({ userId, sessionId: '', role: user.role }, access);
}

/** Notifies the post's author and the author of the comment answered; safe to run again (each is stored once). */
export async function notifyAboutComment(deps: Deps, commentId: string, repliedToId: string | null): Promise<number> {
  const q = db(deps.orm.em.fork());
  const comment = await loadWrittenComment(q, commentId);
  if (!comment?.visible) return 0;
  const recipients = new Map<string, 'reply' | 'comment'>();
  if (repliedToId) {
    const answered = await q
      .selectFrom('comments as c')
      .select('c.author_id')
      .where('c.id', '=', repliedToId)
      .where('c.post_id', '=', comment.post_id)
      .where(commentVisibleToMembers())
      .executeTakeFirst();
    if (answered) recipients.set(answered.author_id, 'reply');
  }
  if (!recipients.has(comment.post_author_id)) recipients.set(comment.post_author_id, 'comment');
  recipients.delete(comment.author_id);

  const items: NewNotification[] = [];
  for (const [userId, why] of recipients) {
    if (!(await mayHear(deps, q, userId, comment.community_id, comment.author_id))) continue;
    items.push({
      userId,
      kind: 'reply',
      sourceKey: `comment:${comment.id}`,
      actorId: comment.author_id,
      communityId: comment.community_id,
      subjectType: 'post',
      subjectId: comment.post_id,
      title: why === 'reply' ? `${comment.display_name} replied to your comment` : `${comment.display_name} commented on your post`,
      body: comment.body,
      url: postUrl(comment.community_id, comment.post_id),
    });
  }
  return notify(deps, items);
}

/** The durable listener that turns stored comments into notifications (registered once per node, in server/node.ts). */
export function registerFeedNotifications(bus: EventBus, deps: Deps): void {
  bus.onDurable('comment.written', 'notifyAboutComment', async ({ commentId, repliedToId }) => {
    await notifyAboutComment(deps, commentId, repliedToId);
  });
}
