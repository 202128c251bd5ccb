import type { AckResult } from '$contracts/errors.ts';
import type {
  CommentDto,
  CommentEnvelope,
  CommentPage,
  FeedPage,
  PostDto,
  PostEnvelope,
  PostWithComments,
  ReactionList,
} from '$contracts/feed.ts';
import { callApi } from './restClient.ts';

function map<A, B>(result: AckResult<A>, fn: (data: A) => B): AckResult<B> {
  return result.ok ? { ok: true, data: fn(result.data) } : result;
}

const done = (result: AckResult<void>): AckResult<null> => map(result, () => null);

/** Where a feed comes from: one community, or the home feed across communities and followed people. */
export type FeedSource = { kind: 'community'; communityId: string } | { kind: 'home' };

/** The feed calls the stores and components make; a seam so unit tests run without a server. */
export interface FeedApi {
  page(source: FeedSource, cursor: string | null): Promise<AckResult<FeedPage>>;
  postWithComments(postId: string): Promise<AckResult<{ post: PostDto; comments: CommentDto[]; nextCursor: string | null }>>;
  moreComments(postId: string, cursor: string): Promise<AckResult<{ comments: CommentDto[]; nextCursor: string | null }>>;
  editPost(postId: string, body: string): Promise<AckResult<PostDto>>;
  deletePost(postId: string): Promise<AckResult<null>>;
  pin(postId: string, pinned: boolean): Promise<AckResult<PostDto>>;
  vote(postId: string, option: number): Promise<AckResult<PostDto>>;
  /** The post's reactions after the toggle, with the post's version. */
  reactToPost(postId: string, emoji: string): Promise<AckResult<ReactionList>>;
  comment(postId: string, body: string, parentId: string | null): Promise<AckResult<CommentDto>>;
  editComment(commentId: string, body: string): Promise<AckResult<CommentDto>>;
  deleteComment(commentId: string): Promise<AckResult<null>>;
  reactToComment(commentId: string, emoji: string): Promise<AckResult<ReactionList>>;
}

const post = (body: PostEnvelope) => body.post;
const comment = (body: CommentEnvelope) => body.comment;

export const feedApi: FeedApi = {
  page(source, cursor) {
    const query = new URLSearchParams({ limit: '20' });
    if (cursor) query.set('cursor', cursor);
    const path = source.kind === 'home' ? 'feed' : `communities/${source.communityId}/feed`;
    return callApi<FeedPage>('GET', `${path}?${query}`);
  },
  async postWithComments(postId) {
    const result = await callApi<PostWithComments>('GET', `posts/${postId}`);
    return map(result, (body) => ({ post: body.post, comments: body.comments, nextCursor: body.nextCommentsCursor }));
  },
  async moreComments(postId, cursor) {
    const query = new URLSearchParams({ cursor, limit: '50' });
    const result = await callApi<CommentPage>('GET', `posts/${postId}/comments?${query}`);
    return map(result, (body) => ({ comments: body.data, nextCursor: body.nextCursor }));
  },
  async editPost(postId, body) {
    return map(await callApi<PostEnvelope>('PATCH', `posts/${postId}`, { body }), post);
  },
  async deletePost(postId) {
    return done(await callApi<void>('DELETE', `posts/${postId}`));
  },
  async pin(postId, pinned) {
    return map(await callApi<PostEnvelope>('POST', `posts/${postId}/pin`, { pinned }), post);
  },
  async vote(postId, option) {
    return map(await callApi<PostEnvelope>('POST', `posts/${postId}/poll/vote`, { option }), post);
  },
  reactToPost(postId, emoji) {
    return callApi<ReactionList>('POST', `posts/${postId}/reactions`, { emoji });
  },
  async comment(postId, body, parentId) {
    const input = parentId ? { body, parentId } : { body };
    return map(await callApi<CommentEnvelope>('POST', `posts/${postId}/comments`, input), comment);
  },
  async editComment(commentId, body) {
    return map(await callApi<CommentEnvelope>('PATCH', `comments/${commentId}`, { body }), comment);
  },
  async deleteComment(commentId) {
    return done(await callApi<void>('DELETE', `comments/${commentId}`));
  },
  reactToComment(commentId, emoji) {
    return callApi<ReactionList>('POST', `comments/${commentId}/reactions`, { emoji });
  },
};
