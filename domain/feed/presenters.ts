import type { ReactionDto } from '../../contracts/chat.ts';
import type { CommentDto, PostDto, PostKind } from '../../contracts/feed.ts';
import type { Sql } from '../shared/sql.ts';
import { renderMarkdown } from './markdown.ts';

/** Raw queries may hand timestamps back as Date or as text. */
export const iso = (value: Date | string) => new Date(value).toISOString();
const isoOrNull = (value: Date | string | null) => (value === null ? null : iso(value));

interface PostRow {
  id: string;
  community_id: string;
  author_id: string;
  author_name: string;
  kind: PostKind;
  body: string;
  link_url: string | null;
  poll_question: string | null;
  poll_options: string[] | null;
  pinned_at: Date | string | null;
  comment_count: number;
  created_at: Date | string;
  edited_at: Date | string | null;
  hidden_at: Date | string | null;
}

interface CommentRow {
  id: string;
  post_id: string;
  community_id: string;
  parent_id: string | null;
  author_id: string;
  author_name: string;
  body: string;
  created_at: Date | string;
  edited_at: Date | string | null;
  hidden_at: Date | string | null;
}

async function reactionsOf(sql: Sql, table: 'post_reactions' | 'comment_reactions', ids: string[]): Promise<Map<string, ReactionDto[]>> {
  const key = table === 'post_reactions' ? 'post_id' : 'comment_id';
  const rows = await sql<{ target_id: string; emoji: string; user_ids: string[] }>(
    `select ${key} as target_id, emoji, array_agg(user_id order by created_at, user_id) as user_ids from ${table}
     where ${key} = any(?::uuid[]) group by ${key}, emoji order by ${key}, min(created_at), emoji`,
    [ids],
  );
  const result = new Map<string, ReactionDto[]>();
  for (const r of rows) {
    const list = result.get(r.target_id) ?? [];
    list.push({ emoji: r.emoji, count: r.user_ids.length, userIds: r.user_ids });
    result.set(r.target_id, list);
  }
  return result;
}

/**
 * Posts as clients see them now, in a fixed number of queries for any count. Deleted posts are never loaded; whether a
 * hidden one may be shown is the caller's decision (moderators only). `viewerId` fills the poll's `myVote`; events
 * broadcast to a room pass null, because one payload goes to every subscriber.
 */
export async function loadPosts(sql: Sql, ids: readonly string[], viewerId: string | null): Promise<Map<string, PostDto>> {
  const result = new Map<string, PostDto>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return result;
  const [rows, reactions, votes, mine] = await Promise.all([
    sql<PostRow>(
      `select p.id, p.community_id, p.author_id, u.display_name as author_name, p.kind, p.body, p.link_url, p.poll_question,
              p.poll_options, p.pinned_at, p.comment_count, p.created_at, p.edited_at, p.hidden_at
       from posts p join users u on u.id = p.author_id where p.id = any(?::uuid[]) and p.deleted_at is null`,
      [unique],
    ),
    reactionsOf(sql, 'post_reactions', unique),
    sql<{ post_id: string; option: number; votes: number }>(
      `select post_id, option, count(*)::int as votes from post_poll_votes where post_id = any(?::uuid[]) group by post_id, option`,
      [unique],
    ),
    viewerId
      ? sql<{ post_id: string; option: number }>('select post_id, option from post_poll_votes where post_id = any(?::uuid[]) and user_id = ?', [
          unique,
          viewerId,
        ])
      : Promise.resolve([]),
  ]);
  const tally = new Map(votes.map((v) => [`${v.post_id}:${v.option}`, v.votes]));
  const myVotes = new Map(mine.map((v) => [v.post_id, v.option]));
  for (const row of rows) {
    result.set(row.id, {
      id: row.id,
      communityId: row.community_id,
      author: { id: row.author_id, displayName: row.author_name },
      kind: row.kind,
      body: row.body,
      bodyHtml: renderMarkdown(row.body),
      linkUrl: row.link_url,
      poll:
        row.poll_options && row.poll_question !== null
          ? {
              question: row.poll_question,
              options: row.poll_options.map((text, i) => ({ text, votes: tally.get(`${row.id}:${i}`) ?? 0 })),
              myVote: myVotes.get(row.id) ?? null,
            }
          : null,
      pinned: row.pinned_at !== null,
      commentCount: row.comment_count,
      reactions: reactions.get(row.id) ?? [],
      createdAt: iso(row.created_at),
      editedAt: isoOrNull(row.edited_at),
      hidden: row.hidden_at !== null,
    });
  }
  return result;
}

export async function loadPost(sql: Sql, id: string, viewerId: string | null): Promise<PostDto | undefined> {
  return (await loadPosts(sql, [id], viewerId)).get(id);
}

export type CommentEventDto = CommentDto & { communityId: string };

/** Comments as clients see them now (deleted ones never loaded), with their community for live events. */
export async function loadComments(sql: Sql, ids: readonly string[]): Promise<Map<string, CommentEventDto>> {
  const result = new Map<string, CommentEventDto>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return result;
  const [rows, reactions] = await Promise.all([
    sql<CommentRow>(
      `select c.id, c.post_id, c.community_id, c.parent_id, c.author_id, u.display_name as author_name, c.body,
              c.created_at, c.edited_at, c.hidden_at
       from comments c join users u on u.id = c.author_id where c.id = any(?::uuid[]) and c.deleted_at is null`,
      [unique],
    ),
    reactionsOf(sql, 'comment_reactions', unique),
  ]);
  for (const row of rows) {
    result.set(row.id, {
      id: row.id,
      postId: row.post_id,
      communityId: row.community_id,
      parentId: row.parent_id,
      author: { id: row.author_id, displayName: row.author_name },
      body: row.body,
      bodyHtml: renderMarkdown(row.body),
      reactions: reactions.get(row.id) ?? [],
      createdAt: iso(row.created_at),
      editedAt: isoOrNull(row.edited_at),
      hidden: row.hidden_at !== null,
    });
  }
  return result;
}

export async function loadComment(sql: Sql, id: string): Promise<CommentEventDto | undefined> {
  return (await loadComments(sql, [id])).get(id);
}

/** The REST shape of a comment (the live event adds communityId). */
export function withoutCommunity({ communityId: _communityId, ...comment }: CommentEventDto): CommentDto {
  return comment;
}

/** Post reactions, read-only and in the order of loadPosts. */
export async function loadPostReactions(sql: Sql, postId: string): Promise<ReactionDto[]> {
  return (await reactionsOf(sql, 'post_reactions', [postId])).get(postId) ?? [];
}

export async function loadCommentReactions(sql: Sql, commentId: string): Promise<ReactionDto[]> {
  return (await reactionsOf(sql, 'comment_reactions', [commentId])).get(commentId) ?? [];
}
