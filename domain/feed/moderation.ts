import type { Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { Sql } from '../shared/sql.ts';
import { iso, loadComments, loadPost, type CommentEventDto } from './presenters.ts';
import { recountComments, VISIBLE_COMMENT } from './visibility.ts';

export type FeedItemType = 'post' | 'comment';

interface ItemRow {
  community_id: string;
  author_id: string;
  post_id: string;
  parent_id: string | null;
  body: string;
  created_at: Date | string;
  hidden: boolean;
  deleted: boolean;
  /** Comments: whether everything above it (post, top-level parent) is visible to members. */
  context_visible: boolean;
}

const SELECT_POST = `select p.community_id, p.author_id, p.id as post_id, null::uuid as parent_id, p.body, p.created_at,
  p.hidden_at is not null as hidden, p.deleted_at is not null as deleted, true as context_visible
  from posts p where p.id = ?`;

const SELECT_COMMENT = `select c.community_id, c.author_id, c.post_id, c.parent_id, c.body, c.created_at,
  c.hidden_at is not null as hidden, c.deleted_at is not null as deleted,
  (p.deleted_at is null and p.hidden_at is null and (c.parent_id is null or exists (
     select 1 from comments pc where pc.id = c.parent_id and pc.deleted_at is null and pc.hidden_at is null))) as context_visible
  from comments c join posts p on p.id = c.post_id where c.id = ?`;

async function loadItem(sql: Sql, type: FeedItemType, id: string, lock: boolean): Promise<ItemRow | undefined> {
  const lockClause = lock ? (type === 'post' ? ' for update' : ' for update of c') : '';
  const [row] = await sql<ItemRow>((type === 'post' ? SELECT_POST : SELECT_COMMENT) + lockClause, [id]);
  return row;
}

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

/** A post or comment as the moderation console shows it (hidden and deleted ones too); null when there is none. */
export async function loadFeedItemForCase(sql: Sql, type: FeedItemType, id: string): Promise<FeedItemForCase | null> {
  const row = await loadItem(sql, type, id, false);
  if (!row) return null;
  return {
    communityId: row.community_id,
    authorId: row.author_id,
    body: row.body,
    postId: row.post_id,
    hidden: row.hidden,
    deleted: row.deleted,
    createdAt: iso(row.created_at),
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
 * visible replies). Nothing is announced when members' view did not change.
 */
export async function moderateFeedItem(
  deps: Deps,
  sql: Sql,
  target: { type: FeedItemType; id: string },
  change: { hide?: boolean; delete?: boolean },
  moderatorId: string,
): Promise<FeedModerationResult> {
  // The post row is locked first for comments too, as every comment change does, so comment counts never race.
  if (target.type === 'comment') await sql('select 1 from posts where id = (select post_id from comments where id = ?) for update', [target.id]);
  const row = await loadItem(sql, target.type, target.id, true);
  if (!row) throw new AppError('not_found', target.type === 'post' ? 'No such post.' : 'No such comment.');
  const table = target.type === 'post' ? 'posts' : 'comments';
  const now = deps.clock.now();

  if (change.hide === true && !row.hidden) {
    await sql(`update ${table} set hidden_at = ?, hidden_by_id = ? where id = ?`, [now, moderatorId, target.id]);
  } else if (change.hide === false && row.hidden) {
    await sql(`update ${table} set hidden_at = null, hidden_by_id = null where id = ?`, [target.id]);
  }
  if (change.delete && !row.deleted) {
    const unpin = target.type === 'post' ? ', pinned_at = null, pinned_by_id = null' : '';
    await sql(`update ${table} set deleted_at = ?${unpin} where id = ?`, [now, target.id]);
  }
  const after = { hidden: change.hide ?? row.hidden, deleted: row.deleted || change.delete === true };
  if (target.type === 'comment') await recountComments(sql, row.post_id);

  const visibleBefore = row.context_visible && !row.hidden && !row.deleted;
  const visibleAfter = row.context_visible && !after.hidden && !after.deleted;
  let publish = () => {};
  if (visibleBefore && !visibleAfter) {
    const deleted = after.deleted && !row.deleted;
    publish =
      target.type === 'post'
        ? () => void deps.events.emit(deleted ? 'post.deleted' : 'post.hidden', { communityId: row.community_id, postId: target.id })
        : () =>
            void deps.events.emit(deleted ? 'comment.deleted' : 'comment.hidden', {
              communityId: row.community_id,
              postId: row.post_id,
              commentId: target.id,
            });
  } else if (!visibleBefore && visibleAfter) {
    publish = await republish(deps, sql, target, row);
  }
  return {
    communityId: row.community_id,
    authorId: row.author_id,
    before: { hidden: row.hidden, deleted: row.deleted, body: row.body },
    after,
    publish,
  };
}

/** Loads, inside the transaction, what an unhide gives back to members, and returns the after-commit announcement. */
async function republish(deps: Deps, sql: Sql, target: { type: FeedItemType; id: string }, row: ItemRow): Promise<() => void> {
  if (target.type === 'post') {
    const post = await loadPost(sql, target.id, null);
    return () => {
      if (post) void deps.events.emit('post.restored', { post });
    };
  }
  const replies =
    row.parent_id === null
      ? await sql<{ id: string }>(`select c.id from comments c where c.parent_id = ? and ${VISIBLE_COMMENT('c')} order by c.created_at, c.id`, [
          target.id,
        ])
      : [];
  const ids = [target.id, ...replies.map((r) => r.id)];
  const loaded = await loadComments(sql, ids);
  const comments = ids.map((id) => loaded.get(id)).filter((c): c is CommentEventDto => c !== undefined);
  return () => void deps.events.emit('comment.restored', { comments });
}
