import { sql } from 'kysely';
import { z } from 'zod';
import type { CommentDto, FeedPage, PostDto } from '../../contracts/feed.ts';
import { db, type Db } from '../../orm/db.ts';
import { commentListedTo } from '../access/comment.ts';
import { postListedTo } from '../access/post.ts';
import { decodeCursor, encodeCursor } from '../communities/cursor.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { authorizeFeed, FeedPolicy } from '../access/feed.ts';
import { loadPostFor } from './postAccess.ts';
import { loadComments, loadPosts, withoutCommunity } from './presenters.ts';

/** A time from a cursor, within what PostgreSQL stores (a forged year 0000 must not reach the database). */
export const cursorTime = <S extends z.ZodString | z.ZodISODateTime>(schema: S) =>
  schema.refine((v) => {
    const year = new Date(v).getUTCFullYear();
    return year >= 1970 && year <= 9999;
  });

/** created_at to the microsecond (UTC) then id: both immutable, so a page boundary never moves. */
const TimeIdCursor = z.tuple([cursorTime(z.iso.datetime({ precision: 6 })), z.uuid()]);
type TimeId = z.infer<typeof TimeIdCursor>;

/** A row's created_at as the cursor carries it: to the microsecond, which a JS Date cannot hold. */
const cursorKey = (createdAt: 'p.created_at' | 'c.created_at') =>
  sql<string>`to_char(${sql.ref(createdAt)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('key');

/** A cursor's time as PostgreSQL reads it: text until then, so its microseconds survive. */
const cursorAt = (at: string) => sql<Date>`${at}::timestamptz`;

/** Comments shown with a post before the client pages for more. */
export const POST_COMMENTS_PAGE = 50;

export async function orderedPosts(q: Db, ids: string[], viewerId: string): Promise<PostDto[]> {
  const posts = await loadPosts(q, ids, viewerId);
  return ids.map((id) => posts.get(id)).filter((p): p is PostDto => p !== undefined);
}

/**
 * A community's feed. The first page starts with the pinned posts (newest pin first, at most MAX_PINNED_POSTS, on top
 * of `limit`), then every page lists unpinned posts newest first by keyset over (created_at, id): a page starts strictly
 * after the previous page's last key, so posts arriving between pages never cause duplicates (they are above the first
 * page, where clients get them live) and nothing is skipped. What a viewer gets is PostPolicy.listed: moderators also
 * get hidden posts, marked `hidden`; the caller's mutes and blocks (both ways) drop authors.
 */
export async function listCommunityFeed(
  deps: Deps,
  actor: Actor,
  communityId: string,
  query: { cursor?: string | undefined; limit: number },
): Promise<FeedPage> {
  const q = db(deps.orm.em.fork());
  const after = decodeCursor(TimeIdCursor, query.cursor);
  const access = await authorizeFeed(q, actor, communityId, 'read', deps.clock.now());
  const shown = q
    .selectFrom('posts as p')
    .select('p.id')
    .where('p.community_id', '=', communityId)
    .where(postListedTo(actor.userId, FeedPolicy.moderate(actor, access)));
  const pinned = after ? [] : await shown.where('p.pinned_at', 'is not', null).orderBy('p.pinned_at', 'desc').orderBy('p.id', 'desc').execute();
  let stream = shown.select(cursorKey('p.created_at')).where('p.pinned_at', 'is', null);
  if (after) stream = stream.where((eb) => eb(eb.refTuple('p.created_at', 'p.id'), '<', eb.tuple(cursorAt(after[0]), after[1])));
  const rows = await stream
    .orderBy('p.created_at', 'desc')
    .orderBy('p.id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: await orderedPosts(q, [...pinned.map((p) => p.id), ...page.map((r) => r.id)], actor.userId),
    nextCursor: rows.length > query.limit && last ? encodeCursor([last.key, last.id]) : null,
  };
}

export interface CommentPage {
  data: CommentDto[];
  nextCursor: string | null;
}

/**
 * A post's comments, oldest first as one flat list (replies carry parentId and always come after their parent), by
 * keyset over (created_at, id). What a viewer gets is CommentPolicy.listed: members see visible comments only,
 * moderators also hidden ones, marked; comments by people the caller muted or is separated from by a block are left
 * out, and so are replies under such a comment.
 */
async function commentPage(
  q: Db,
  viewerId: string,
  postId: string,
  moderates: boolean,
  after: TimeId | undefined,
  limit: number,
): Promise<CommentPage> {
  let list = q
    .selectFrom('comments as c')
    .select(['c.id', cursorKey('c.created_at')])
    .where('c.post_id', '=', postId)
    .where(commentListedTo(viewerId, moderates));
  if (after) list = list.where((eb) => eb(eb.refTuple('c.created_at', 'c.id'), '>', eb.tuple(cursorAt(after[0]), after[1])));
  const rows = await list
    .orderBy('c.created_at')
    .orderBy('c.id')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const comments = await loadComments(
    q,
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
 * feeds, it does not break links); blocks and hiding answer `not_found` as everywhere (PostPolicy.open).
 */
export async function getPost(deps: Deps, actor: Actor, postId: string): Promise<PostWithComments> {
  const q = db(deps.orm.em.fork());
  const { moderates } = await loadPostFor(deps, q, actor, postId, 'read');
  const [post] = await orderedPosts(q, [postId], actor.userId);
  // Deleted between the check and the read.
  if (!post) throw new AppError('not_found', 'No such post.');
  const comments = await commentPage(q, actor.userId, postId, moderates, undefined, POST_COMMENTS_PAGE);
  return { post, comments: comments.data, nextCommentsCursor: comments.nextCursor };
}

export async function listComments(
  deps: Deps,
  actor: Actor,
  postId: string,
  query: { cursor?: string | undefined; limit: number },
): Promise<CommentPage> {
  const q = db(deps.orm.em.fork());
  const after = decodeCursor(TimeIdCursor, query.cursor);
  const { moderates } = await loadPostFor(deps, q, actor, postId, 'read');
  return commentPage(q, actor.userId, postId, moderates, after, query.limit);
}
