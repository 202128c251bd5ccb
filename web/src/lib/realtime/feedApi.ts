import type { ReactionDto } from '$contracts/chat.ts';
import type { AckResult } from '$contracts/errors.ts';
import type { CommentDto, FeedPage, PostDto } from '$contracts/feed.ts';
import { callApi, cursorOf, listOf, resource } from './restClient.ts';

const isPost = (v: Record<string, unknown>) => 'bodyHtml' in v && 'commentCount' in v;
const isComment = (v: Record<string, unknown>) => 'bodyHtml' in v && 'postId' in v && !('commentCount' in v);

function map<A, B>(result: AckResult<A>, fn: (data: A) => B | null, what: string): AckResult<B> {
  if (!result.ok) return result;
  const data = fn(result.data);
  return data === null ? { ok: false, error: { code: 'internal', message: `Unexpected answer for ${what}.` } } : { ok: true, data };
}

/** Where a feed comes from: one community, or the home feed across communities and followed people. */
export type FeedSource = { kind: 'community'; communityId: string } | { kind: 'home' };

/** The feed calls the stores and components make; a seam so unit tests run without a server. */
export interface FeedApi {
  page(source: FeedSource, cursor: string | null): Promise<AckResult<FeedPage>>;
  postWithComments(postId: string): Promise<AckResult<{ post: PostDto | null; comments: CommentDto[]; nextCursor: string | null }>>;
  moreComments(postId: string, cursor: string): Promise<AckResult<{ comments: CommentDto[]; nextCursor: string | null }>>;
  editPost(postId: string, body: string): Promise<AckResult<PostDto>>;
  deletePost(postId: string): Promise<AckResult<null>>;
  pin(postId: string, pinned: boolean): Promise<AckResult<PostDto>>;
  vote(postId: string, option: number): Promise<AckResult<PostDto>>;
  reactToPost(postId: string, emoji: string): Promise<AckResult<ReactionDto[]>>;
  comment(postId: string, body: string, parentId: string | null): Promise<AckResult<CommentDto>>;
  editComment(commentId: string, body: string): Promise<AckResult<CommentDto>>;
  deleteComment(commentId: string): Promise<AckResult<null>>;
  reactToComment(commentId: string, emoji: string): Promise<AckResult<ReactionDto[]>>;
}

const reactionsOf = (body: unknown): ReactionDto[] | null => {
  if (Array.isArray(body)) return body as ReactionDto[];
  if (typeof body !== 'object' || body === null) return null;
  const record = body as Record<string, unknown>;
  if (Array.isArray(record.reactions)) return record.reactions as ReactionDto[];
  for (const key of ['post', 'comment']) {
    const inner = record[key] as { reactions?: unknown } | undefined;
    if (Array.isArray(inner?.reactions)) return inner.reactions as ReactionDto[];
  }
  return null;
};

export const feedApi: FeedApi = {
  async page(source, cursor) {
    const query = new URLSearchParams({ limit: '20' });
    if (cursor) query.set('cursor', cursor);
    const path = source.kind === 'home' ? 'feed' : `communities/${source.communityId}/feed`;
    const result = await callApi<unknown>('GET', `${path}?${query}`);
    return map(result, (body) => ({ data: listOf<PostDto>(body, 'posts'), nextCursor: cursorOf(body) }), 'the feed');
  },
  async postWithComments(postId) {
    const result = await callApi<unknown>('GET', `posts/${postId}`);
    return map(
      result,
      (body) => {
        const post = resource<PostDto>(body, 'post', isPost);
        const record = (body ?? {}) as Record<string, unknown>;
        const comments = listOf<CommentDto>(record.comments ?? [], 'comments');
        const next = record.nextCommentsCursor;
        return { post, comments, nextCursor: typeof next === 'string' && next ? next : null };
      },
      'the post',
    );
  },
  async moreComments(postId, cursor) {
    const query = new URLSearchParams({ cursor, limit: '50' });
    const result = await callApi<unknown>('GET', `posts/${postId}/comments?${query}`);
    return map(result, (body) => ({ comments: listOf<CommentDto>(body, 'comments'), nextCursor: cursorOf(body) }), 'the comments');
  },
  async editPost(postId, body) {
    return map(await callApi<unknown>('PATCH', `posts/${postId}`, { body }), (b) => resource<PostDto>(b, 'post', isPost), 'the post');
  },
  async deletePost(postId) {
    const result = await callApi<unknown>('DELETE', `posts/${postId}`);
    return result.ok ? { ok: true, data: null } : result;
  },
  async pin(postId, pinned) {
    return map(await callApi<unknown>('POST', `posts/${postId}/pin`, { pinned }), (b) => resource<PostDto>(b, 'post', isPost), 'the post');
  },
  async vote(postId, option) {
    return map(await callApi<unknown>('POST', `posts/${postId}/poll/vote`, { option }), (b) => resource<PostDto>(b, 'post', isPost), 'the vote');
  },
  async reactToPost(postId, emoji) {
    return map(await callApi<unknown>('POST', `posts/${postId}/reactions`, { emoji }), reactionsOf, 'the reaction');
  },
  async comment(postId, body, parentId) {
    const input = parentId ? { body, parentId } : { body };
    return map(await callApi<unknown>('POST', `posts/${postId}/comments`, input), (b) => resource<CommentDto>(b, 'comment', isComment), 'the comment');
  },
  async editComment(commentId, body) {
    return map(await callApi<unknown>('PATCH', `comments/${commentId}`, { body }), (b) => resource<CommentDto>(b, 'comment', isComment), 'the comment');
  },
  async deleteComment(commentId) {
    const result = await callApi<unknown>('DELETE', `comments/${commentId}`);
    return result.ok ? { ok: true, data: null } : result;
  },
  async reactToComment(commentId, emoji) {
    return map(await callApi<unknown>('POST', `comments/${commentId}/reactions`, { emoji }), reactionsOf, 'the reaction');
  },
};
