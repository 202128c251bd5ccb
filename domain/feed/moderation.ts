import { uuids, type Db } from '../../orm/db.ts';
import { CommentPolicy, commentVisibleInThread, selectCommentAccess } from '../access/comment.ts';
import { PostPolicy } from '../access/post.ts';
import { queriesOf, type Queries } from '../access/queries.ts';
import type { Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { recountComments } from './counts.ts';
import { loadComments, loadPost, type CommentEventDto } from './presenters.ts';
import { nextVersion } from './versions.ts';

export type FeedItemType = 'post' | 'comment';

/**
 * A post or comment as the console and moderators' actions need it, its row locked when `lock` (for a comment only
 * the comment's: the caller locks the post first). `membersSee(state)`: whether members would see it with that state
 * of its own (hidden, deleted), everything above it (a comment's post and top-level comment) as it is now.
 */
async function loadItem(q: Db, type: FeedItemType, id: string, lock: boolean) {
  if (type === 'post') {
    const post = await q
      .selectFrom('posts as p')
      .select(['p.community_id', 'p.author_id', 'p.id as post_id', 'p.body', 'p.created_at', 'p.hidden_at', 'p.deleted_at'])
      .where('p.id', '=', id)
      .$if(lock, (qb) => qb.forUpdate())
      .executeTakeFirst();
    if (!post) return undefined;
    const state = { hidden: post.hidden_at !== null, deleted: post.deleted_at !== null };
    return {
      ...post,
      ...state,
      parent_id: null,
      membersSee: (own: { hidden: boolean; deleted: boolean }) => PostPolicy.visibleToMembers(own),
    };
  }
  const comment = await selectCommentAccess(q, null)
    .select(['c.body', 'c.created_at'])
    .where('c.id', '=', id)
    .$if(lock, (qb) => qb.forUpdate('c'))
    .executeTakeFirst();
  if (!comment) return undefined;
  return {
    ...comment,
    membersSee: (own: { hidden: boolean; deleted: boolean }) => CommentPolicy.visibleToMembers({ ...comment, ...own }),
  };
}

type FeedItem = NonNullable<Awaited<ReturnType<typeof loadItem>>>;

export interface FeedItemForCase {
  communityId: string;
  authorId: string;
  body: string;
  /** The post itself, or the post a comment belongs to. */
  postId: string;
  hidden: boolean;
  deleted: boolean;
  createdAt: string;
}

/**
 * A post or comment as the moderation console shows it (hidden and deleted ones too); null when there is none. Runs
 * in `source`'s transaction (a typed builder, an EntityManager, or a statement runner still being moved to those).
 */
export async function loadFeedItemForCase(
  source: Queries,
  type: FeedItemType,
  id: string,
): Promise<FeedItemForCase | null> {
  const row = await loadItem(queriesOf(source), type, id, false);
  if (!row) return null;
  return {
    communityId: row.community_id,
    authorId: row.author_id,
    body: row.body,
    postId: row.post_id,
    hidden: row.hidden,
    deleted: row.deleted,
    createdAt: row.created_at.toISOString(),
  };
}

export interface FeedModerationResult {
  communityId: string;
  authorId: string;
  /** For the audit entry. */
  before: { hidden: boolean; deleted: boolean; body: string };
  after: { hidden: boolean; deleted: boolean };
  /** Call after commit: announces what members lost (post.hidden, comment.deleted, …) or got back (*.restored). */
  publish: () => void;
}

/**
 * A moderator hides, unhides or deletes a post or comment, inside the caller's transaction (the caller has checked
 * ModerationPolicy.moderate for the item's community). Hiding sets hidden_at/hidden_by_id, unhiding clears them,
 * deleting is a soft delete (and unpins a post). Unknown items answer `not_found`.
 *
 * `publish` announces post.deleted / post.hidden (comment.*) when the item became invisible to members, and
 * post.restored / comment.restored when an unhide made it visible again (a top-level comment comes back with its
 * visible replies). Nothing is announced when members' view did not change. The post events are also recorded
 * durably (deps.events.record) here, in the caller's transaction.
 */
export async function moderateFeedItem(
  deps: Deps,
  source: Queries,
  target: { type: FeedItemType; id: string },
  change: { hide?: boolean; delete?: boolean },
  moderatorId: string,
): Promise<FeedModerationResult> {
  const q = queriesOf(source);
  // The post row is locked first for comments too, as every comment change does, so comment counts never race.
  if (target.type === 'comment') {
    await q
      .selectFrom('posts')
      .select('id')
      .where('id', '=', (eb) => eb.selectFrom('comments').select('post_id').where('id', '=', target.id))
      .forUpdate()
      .execute();
  }
  const row = await loadItem(q, target.type, target.id, true);
  if (!row) throw new AppError('not_found', target.type === 'post' ? 'No such post.' : 'No such comment.');
  const now = deps.clock.now();

  const hide = change.hide === true && !row.hidden ? { hidden_at: now, hidden_by_id: moderatorId } : null;
  const unhide = change.hide === false && row.hidden ? { hidden_at: null, hidden_by_id: null } : null;
  const setHidden = hide ?? unhide;
  const remove = change.delete === true && !row.deleted;
  // One statement per change, moving the item's version on with it; `version` is what the announcement carries.
  let version = 0;
  if (setHidden || remove) {
    const changes = { ...setHidden, ...(remove ? { deleted_at: now } : {}), version: nextVersion };
    const updated =
      target.type === 'post'
        ? await q
            .updateTable('posts')
            .set({ ...changes, ...(remove ? { pinned_at: null, pinned_by_id: null } : {}) })
            .where('id', '=', target.id)
            .returning('version')
            .executeTakeFirstOrThrow()
        : await q.updateTable('comments').set(changes).where('id', '=', target.id).returning('version').executeTakeFirstOrThrow();
    version = updated.version;
  }
  if (target.type === 'comment') await recountComments(q, row.post_id);
  const after = { hidden: change.hide ?? row.hidden, deleted: row.deleted || change.delete === true };

  const visibleBefore = row.membersSee({ hidden: row.hidden, deleted: row.deleted });
  const visibleAfter = row.membersSee(after);
  let publish = () => {};
  if (visibleBefore && !visibleAfter) {
    const deleted = after.deleted && !row.deleted;
    if (target.type === 'post') {
      const name = deleted ? 'post.deleted' : 'post.hidden';
      const gone = { communityId: row.community_id, postId: target.id, version };
      await deps.events.record(q, name, gone);
      publish = () => void deps.events.emit(name, gone);
    } else {
      publish = () =>
        void deps.events.emit(deleted ? 'comment.deleted' : 'comment.hidden', {
          communityId: row.community_id,
          postId: row.post_id,
          commentId: target.id,
          version,
        });
    }
  } else if (!visibleBefore && visibleAfter) {
    publish = await republish(deps, q, target, row);
  }
  return {
    communityId: row.community_id,
    authorId: row.author_id,
    before: { hidden: row.hidden, deleted: row.deleted, body: row.body },
    after,
    publish,
  };
}

/**
 * Loads, inside the transaction, what an unhide gives back to members, records `post.restored` for a post, and returns
 * the after-commit announcement.
 */
async function republish(deps: Deps, q: Db, target: { type: FeedItemType; id: string }, row: FeedItem): Promise<() => void> {
  if (target.type === 'post') {
    const post = await loadPost(q, target.id, null);
    if (post) await deps.events.record(q, 'post.restored', { post });
    return () => {
      if (post) void deps.events.emit('post.restored', { post });
    };
  }
  const replies =
    row.parent_id === null
      ? await q
          .selectFrom('comments as c')
          .select('c.id')
          .where('c.parent_id', '=', target.id)
          .where(commentVisibleInThread())
          .orderBy('c.created_at')
          .orderBy('c.id')
          .execute()
      : [];
  // Clients dropped the replies along with their parent, at the versions they held: back at newer ones.
  if (replies.length > 0) {
    await q
      .updateTable('comments')
      .set({ version: nextVersion })
      .where((eb) => eb('id', '=', eb.fn.any(uuids(replies.map((r) => r.id)))))
      .execute();
  }
  const ids = [target.id, ...replies.map((r) => r.id)];
  const loaded = await loadComments(q, ids);
  const comments = ids.map((id) => loaded.get(id)).filter((c): c is CommentEventDto => c !== undefined);
  return () => void deps.events.emit('comment.restored', { comments });
}
