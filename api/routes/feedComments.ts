import { IdParam } from '../../contracts/communities.ts';
import {
  CommentEnvelope,
  CommentPage,
  CreateCommentInput,
  FeedPollVoteInput,
  FeedQuery,
  PostEnvelope,
  ReactionInput,
  ReactionList,
  UpdateCommentInput,
} from '../../contracts/feed.ts';
import { createComment, deleteComment, editComment } from '../../domain/feed/comments.ts';
import { listComments } from '../../domain/feed/feedQueries.ts';
import { votePoll } from '../../domain/feed/posts.ts';
import { toggleCommentReaction, togglePostReaction } from '../../domain/feed/reactions.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';
import type { FeedLimits } from './feedLimits.ts';

const tags = ['feed'];

/** Comments, reactions and poll votes. Registered from feedRoutes. */
export function feedCommentRoutes(route: RouteKit, deps: Deps, limits: FeedLimits) {
  route(
    {
      method: 'post',
      path: '/posts/:id/comments',
      summary: 'Comment on a post, or reply (parentId); a reply to a reply attaches to its top-level comment',
      tags,
      auth: true,
      params: IdParam,
      body: CreateCommentInput,
      before: [limits.writes],
      responses: { 201: { description: 'Created', schema: CommentEnvelope } },
    },
    async (ctx, { params, body }) => ({ comment: await createComment(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'get',
      path: '/posts/:id/comments',
      summary: "A post's comments after a cursor (from GET /posts/:id's nextCommentsCursor), oldest first",
      tags,
      auth: true,
      params: IdParam,
      query: FeedQuery,
      responses: { 200: { description: 'A page of comments', schema: CommentPage } },
    },
    (ctx, { params, query }) => listComments(deps, actorOf(ctx), params.id, query),
  );

  route(
    {
      method: 'patch',
      path: '/comments/:id',
      summary: 'Edit my comment',
      tags,
      auth: true,
      params: IdParam,
      body: UpdateCommentInput,
      before: [limits.writes],
      responses: { 200: { description: 'Updated', schema: CommentEnvelope } },
    },
    async (ctx, { params, body }) => ({ comment: await editComment(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'delete',
      path: '/comments/:id',
      summary: 'Delete a comment (its author, or a moderator of the community)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 204: { description: 'Deleted' } },
    },
    async (ctx, { params }) => {
      await deleteComment(deps, actorOf(ctx), params.id);
    },
  );

  route(
    {
      method: 'post',
      path: '/posts/:id/reactions',
      summary: 'Toggle my reaction on a post; answers its reactions',
      tags,
      auth: true,
      params: IdParam,
      body: ReactionInput,
      before: [limits.reactions],
      responses: { 200: { description: 'The reactions', schema: ReactionList } },
    },
    (ctx, { params, body }) => togglePostReaction(deps, actorOf(ctx), params.id, body.emoji),
  );

  route(
    {
      method: 'post',
      path: '/comments/:id/reactions',
      summary: 'Toggle my reaction on a comment; answers its reactions',
      tags,
      auth: true,
      params: IdParam,
      body: ReactionInput,
      before: [limits.reactions],
      responses: { 200: { description: 'The reactions', schema: ReactionList } },
    },
    (ctx, { params, body }) => toggleCommentReaction(deps, actorOf(ctx), params.id, body.emoji),
  );

  route(
    {
      method: 'post',
      path: '/posts/:id/poll/vote',
      summary: 'Vote in a poll (members; one vote each, voting again moves it); answers the post with myVote',
      tags,
      auth: true,
      params: IdParam,
      body: FeedPollVoteInput,
      before: [limits.reactions],
      responses: { 200: { description: 'The post', schema: PostEnvelope } },
    },
    async (ctx, { params, body }) => ({ post: await votePoll(deps, actorOf(ctx), params.id, body.option) }),
  );
}
