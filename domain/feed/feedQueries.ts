import { z } from 'zod';
import type { CommentDto, FeedPage, PostDto } from '../../contracts/feed.ts';
import { decodeCursor, encodeCursor } from '../communities/cursor.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { authorizeFeed, FeedPolicy } from './access.ts';
import { loadPostFor } from './postAccess.ts';
import { loadComments, loadPosts, withoutCommunity } from './presenters.ts';
import { EXCLUDED_AUTHORS, excludedAuthorParams, VISIBLE_COMMENT } from './visibility.ts';

/** A time from a cursor, within what PostgreSQL stores (a forged year 0000 must not reach the database). */
export const cursorTime = <S extends z.ZodString | z.ZodISODateTime>(schema: S) =>
  schema.refine((v) => {
    const year = new Date(v).getUTCFullYear();
    return year >= 1970 && year <= 9999;
  });

/** created_at to the microsecond (UTC) then id: both immutable, so a page boundary never moves. */
const TimeIdCursor = z.tuple([cursorTime(z.iso.datetime({ precision: 6 })), z.uuid()]);
const KEY_OF = (alias: string) => `to_char(${alias}.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as key`;

/** Comments shown with a post before the client pages for more. */
export const POST_COMMENTS_PAGE = 50;

export async function orderedPosts(sql: Sql, ids: string[], viewerId: string): Promise<PostDto[]> {
  const posts = await loadPosts(sql, ids, viewerId);
  return ids.map((id) => posts.get(id)).filter((p): p is PostDto => p !== undefined);
}

/**
 * A community's feed. The first page starts with the pinned posts (newest pin first, at most MAX_PINNED_POSTS, on top
 * of `limit`), then every page lists unpinned posts newest first by keyset over (created_at, id): a page starts strictly
 * after the previous page's last key, so posts arriving between pages never cause duplicates (they are above the first
 * page, where clients get them live) and nothing is skipped. Moderators also get hidden posts, marked `hidden`. The
 * caller's mutes and blocks (both ways) drop authors.
 */
export async function listCommunityFeed(
  deps: Deps,
  actor: Actor,
  communityId: string,
  query: { cursor?: string | undefined; limit: number },
): Promise<FeedPage> {
  const sql = sqlOf(deps.orm.em.fork());
  const after = decodeCursor(TimeIdCursor, query.cursor);
  const access = await authorizeFeed(sql, actor, communityId, 'read', deps.clock.now());
  const moderates = FeedPolicy.moderate(actor, access);
  const shown = `p.community_id = ? and p.deleted_at is null ${moderates ? '' : 'and p.hidden_at is null'}
    and p.author_id not in ${EXCLUDED_AUTHORS}`;
  const shownParams = [communityId, ...excludedAuthorParams(actor.userId)];
  const pinned = after
    ? []
    : await sql<{ id: string }>(`select p.id from posts p where ${shown} and p.pinned_at is not null order by p.pinned_at desc, p.id desc`, shownParams);
  const rows = await sql<{ id: string; key: string }>(
    `select p.id, ${KEY_OF('p')} from posts p
     where ${shown} and p.pinned_at is null ${after ? 'and (p.created_at, p.id) < (?::timestamptz, ?::uuid)' : ''}
     order by p.created_at desc, p.id desc limit ?`,
    [...shownParams, ...(after ?? []), query.limit + 1],
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: await orderedPosts(sql, [...pinned.map((p) => p.id), ...page.map((r) => r.id)], actor.userId),
    nextCursor: rows.length > query.limit && last ? encodeCursor([last.key, last.id]) : null,
  };
}

export interface CommentPage {
  data: CommentDto[];
  nextCursor: string | null;
}

/**
 * A post's comments, oldest first as one flat list (replies carry parentId and always come after their parent), by
 * keyset over (created_at, id). Members see visible comments only; moderators also hidden ones, marked. Comments by
 * people the caller muted or is separated from by a block are left out, and so are replies under such a comment.
 */
async function commentPage(
  sql: Sql,
  viewerId: string,
  postId: string,
  moderates: boolean,
  after: readonly [string, string] | undefined,
  limit: number,
): Promise<CommentPage> {
  const rows = await sql<{ id: string; key: string }>(
    `select c.id, ${KEY_OF('c')} from comments c
     left join comments parent on parent.id = c.parent_id
     where c.post_id = ? and c.deleted_at is null and parent.deleted_at is null
       ${moderates ? '' : `and ${VISIBLE_COMMENT('c')}`}
       and c.author_id not in ${EXCLUDED_AUTHORS}
       and (parent.id is null or parent.author_id not in ${EXCLUDED_AUTHORS})
       ${after ? 'and (c.created_at, c.id) > (?::timestamptz, ?::uuid)' : ''}
     order by c.created_at, c.id limit ?`,
    [postId, ...excludedAuthorParams(viewerId), ...excludedAuthorParams(viewerId), ...(after ?? []), limit + 1],
  );
  const page = rows.slice(0, limit);
  const comments = await loadComments(
    sql,
    page.map((r) => r.id),
  );
  const last = page.at(-1);
  return {
    data: page.flatMap((r) => {
      const comment = comments.get(r.id);
      return comment ? [withoutCommunity(comment)] : [];
    }),
    nextCursor: rows.length > limit && last ? encodeCursor([last.key, last.id]) : null,
  };
}

export interface PostWithComments {
  post: PostDto;
  comments: CommentDto[];
  /** More comments: GET /posts/:id/comments?cursor=… */
  nextCommentsCursor: string | null;
}

/**
 * One post with its first comments. Reached directly, a post by someone the caller muted still opens (muting quiets
 * feeds, it does not break links); blocks and hiding answer `not_found` as everywhere.
 */
export async function getPost(deps: Deps, actor: Actor, postId: string): Promise<PostWithComments> {
  const sql = sqlOf(deps.orm.em.fork());
  const { moderates } = await loadPostFor(deps, sql, actor, postId, 'read');
  const [post] = await orderedPosts(sql, [postId], actor.userId);
  // Deleted between the check and the read.
  if (!post) throw new AppError('not_found', 'No such post.');
  const comments = await commentPage(sql, actor.userId, postId, moderates, undefined, POST_COMMENTS_PAGE);
  return { post, comments: comments.data, nextCommentsCursor: comments.nextCursor };
}

export async function listComments(
  deps: Deps,
  actor: Actor,
  postId: string,
  query: { cursor?: string | undefined; limit: number },
): Promise<CommentPage> {
  const sql = sqlOf(deps.orm.em.fork());
  const after = decodeCursor(TimeIdCursor, query.cursor);
  const { moderates } = await loadPostFor(deps, sql, actor, postId, 'read');
  return commentPage(sql, actor.userId, postId, moderates, after, query.limit);
}
