import { sql } from 'kysely';
import type { ReactionDto } from '../../contracts/chat.ts';
import type { CommentDto, PostDto } from '../../contracts/feed.ts';
import { uuids, type Db } from '../../orm/db.ts';
import { renderMarkdown } from '../content/markdown.ts';

/** The reactions on some posts or on some comments, as one shape (`r`): the two tables differ only in what is reacted to. */
export function reactionRows(q: Db, on: 'post' | 'comment', ids: readonly string[]) {
  const rows =
    on === 'post'
      ? q
          .selectFrom('post_reactions')
          .select(['post_id as target_id', 'user_id', 'emoji', 'created_at'])
          .where((eb) => eb('post_id', '=', eb.fn.any(uuids(ids))))
      : q
          .selectFrom('comment_reactions')
          .select(['comment_id as target_id', 'user_id', 'emoji', 'created_at'])
          .where((eb) => eb('comment_id', '=', eb.fn.any(uuids(ids))));
  return rows.as('r');
}

/** Reactions per post or comment: each emoji once, in the order it was first given, with who gave it. */
async function reactionsOf(q: Db, on: 'post' | 'comment', ids: readonly string[]): Promise<Map<string, ReactionDto[]>> {
  const rows = await q
    .selectFrom(reactionRows(q, on, ids))
    .select(['r.target_id', 'r.emoji', sql<string[]>`array_agg(r.user_id order by r.created_at, r.user_id)`.as('user_ids')])
    .groupBy(['r.target_id', 'r.emoji'])
    .orderBy('r.target_id')
    .orderBy(sql`min(r.created_at)`)
    .orderBy('r.emoji')
    .execute();
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
export async function loadPosts(q: Db, ids: readonly string[], viewerId: string | null): Promise<Map<string, PostDto>> {
  const result = new Map<string, PostDto>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return result;
  const [rows, reactions, votes, mine] = await Promise.all([
    q
      .selectFrom('posts as p')
      .innerJoin('users as u', 'u.id', 'p.author_id')
      .select([
        'p.id',
        'p.community_id',
        'p.author_id',
        'u.display_name as author_name',
        'p.kind',
        'p.body',
        'p.link_url',
        'p.poll_question',
        'p.poll_options',
        'p.pinned_at',
        'p.comment_count',
        'p.created_at',
        'p.edited_at',
        'p.hidden_at',
        'p.version',
      ])
      .where((eb) => eb('p.id', '=', eb.fn.any(uuids(unique))))
      .where('p.deleted_at', 'is', null)
      .execute(),
    reactionsOf(q, 'post', unique),
    q
      .selectFrom('post_poll_votes')
      .select(['post_id', 'option', sql<number>`count(*)::int`.as('votes')])
      .where((eb) => eb('post_id', '=', eb.fn.any(uuids(unique))))
      .groupBy(['post_id', 'option'])
      .execute(),
    viewerId
      ? q
          .selectFrom('post_poll_votes')
          .select(['post_id', 'option'])
          .where((eb) => eb('post_id', '=', eb.fn.any(uuids(unique))))
          .where('user_id', '=', viewerId)
          .execute()
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
      bodyHtml: renderMarkdown(row.body, { profile: 'post' }),
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
      createdAt: row.created_at.toISOString(),
      editedAt: row.edited_at?.toISOString() ?? null,
      hidden: row.hidden_at !== null,
      version: row.version,
    });
  }
  return result;
}

export async function loadPost(q: Db, id: string, viewerId: string | null): Promise<PostDto | undefined> {
  return (await loadPosts(q, [id], viewerId)).get(id);
}

export type CommentEventDto = CommentDto & { communityId: string };

/** Comments as clients see them now (deleted ones never loaded), with their community for live events. */
export async function loadComments(q: Db, ids: readonly string[]): Promise<Map<string, CommentEventDto>> {
  const result = new Map<string, CommentEventDto>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return result;
  const [rows, reactions] = await Promise.all([
    q
      .selectFrom('comments as c')
      .innerJoin('users as u', 'u.id', 'c.author_id')
      .select([
        'c.id',
        'c.post_id',
        'c.community_id',
        'c.parent_id',
        'c.author_id',
        'u.display_name as author_name',
        'c.body',
        'c.created_at',
        'c.edited_at',
        'c.hidden_at',
        'c.version',
      ])
      .where((eb) => eb('c.id', '=', eb.fn.any(uuids(unique))))
      .where('c.deleted_at', 'is', null)
      .execute(),
    reactionsOf(q, 'comment', unique),
  ]);
  for (const row of rows) {
    result.set(row.id, {
      id: row.id,
      postId: row.post_id,
      communityId: row.community_id,
      parentId: row.parent_id,
      author: { id: row.author_id, displayName: row.author_name },
      body: row.body,
      bodyHtml: renderMarkdown(row.body, { profile: 'post' }),
      reactions: reactions.get(row.id) ?? [],
      createdAt: row.created_at.toISOString(),
      editedAt: row.edited_at?.toISOString() ?? null,
      hidden: row.hidden_at !== null,
      version: row.version,
    });
  }
  return result;
}

export async function loadComment(q: Db, id: string): Promise<CommentEventDto | undefined> {
  return (await loadComments(q, [id])).get(id);
}

/** The REST shape of a comment (the live event adds communityId). */
export function withoutCommunity({ communityId: _communityId, ...comment }: CommentEventDto): CommentDto {
  return comment;
}

/** Post reactions, read-only and in the order of loadPosts. */
export async function loadPostReactions(q: Db, postId: string): Promise<ReactionDto[]> {
  return (await reactionsOf(q, 'post', [postId])).get(postId) ?? [];
}

export async function loadCommentReactions(q: Db, commentId: string): Promise<ReactionDto[]> {
  return (await reactionsOf(q, 'comment', [commentId])).get(commentId) ?? [];
}
