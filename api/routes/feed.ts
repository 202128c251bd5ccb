import { IdParam } from '../../contracts/communities.ts';
import { CreatePostInput, FeedPage, FeedQuery, PinPostInput, PostEnvelope, PostWithComments, UpdatePostInput } from '../../contracts/feed.ts';
import { getPost, listCommunityFeed } from '../../domain/feed/feedQueries.ts';
import { createPost, deletePost, editPost, pinPost } from '../../domain/feed/posts.ts';
import { listHomeFeed } from '../../domain/feed/ranking.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';
import { feedCommentRoutes } from './feedComments.ts';
import { feedLimits } from './feedLimits.ts';
import { socialRoutes } from './social.ts';

const tags = ['feed'];

/** Posts and feeds; registers comments, reactions, polls and the social graph too. */
export function feedRoutes(route: RouteKit, deps: Deps) {
  const limits = feedLimits(deps);
  route(
    {
      method: 'post',
      path: '/communities/:id/posts',
      summary: 'Post in a community (members): text, a link (linkUrl) or a poll; the community rules apply',
      tags,
      auth: true,
      params: IdParam,
      body: CreatePostInput,
      before: [limits.writes],
      responses: { 201: { description: 'Created', schema: PostEnvelope } },
    },
    async (ctx, { params, body }) => ({ post: await createPost(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'get',
      path: '/communities/:id/feed',
      summary: 'A community feed: pinned posts first on the first page, then newest first (keyset cursor)',
      tags,
      auth: true,
      params: IdParam,
      query: FeedQuery,
      responses: { 200: { description: 'A page of posts', schema: FeedPage } },
    },
    (ctx, { params, query }) => listCommunityFeed(deps, actorOf(ctx), params.id, query),
  );

  route(
    {
      method: 'get',
      path: '/feed',
      summary: 'My home feed: my communities and people I follow, ranked by recency and engagement (stable cursor)',
      tags,
      auth: true,
      query: FeedQuery,
      responses: { 200: { description: 'A page of posts', schema: FeedPage } },
    },
    (ctx, { query }) => listHomeFeed(deps, actorOf(ctx), query),
  );

  route(
    {
      method: 'get',
      path: '/posts/:id',
      summary: 'A post with its first comments (oldest first; replies carry parentId)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'The post', schema: PostWithComments } },
    },
    (ctx, { params }) => getPost(deps, actorOf(ctx), params.id),
  );

  route(
    {
      method: 'patch',
      path: '/posts/:id',
      summary: 'Edit my post',
      tags,
      auth: true,
      params: IdParam,
      body: UpdatePostInput,
      before: [limits.writes],
      responses: { 200: { description: 'Updated', schema: PostEnvelope } },
    },
    async (ctx, { params, body }) => ({ post: await editPost(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'delete',
      path: '/posts/:id',
      summary: 'Delete a post (its author, or a moderator of the community)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 204: { description: 'Deleted' } },
    },
    async (ctx, { params }) => {
      await deletePost(deps, actorOf(ctx), params.id);
    },
  );

  route(
    {
      method: 'post',
      path: '/posts/:id/pin',
      summary: 'Pin or unpin a post (moderators; idempotent)',
      tags,
      auth: true,
      params: IdParam,
      body: PinPostInput,
      responses: { 200: { description: 'The post', schema: PostEnvelope } },
    },
    async (ctx, { params, body }) => ({ post: await pinPost(deps, actorOf(ctx), params.id, body.pinned) }),
  );

  feedCommentRoutes(route, deps, limits);
  socialRoutes(route, deps);
}
