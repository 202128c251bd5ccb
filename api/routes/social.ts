import { IdParam } from '../../contracts/communities.ts';
import { Relationship } from '../../contracts/feed.ts';
import { followUser, getRelationship, muteUser, unfollowUser, unmuteUser } from '../../domain/feed/social.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

const tags = ['social'];

/** Follow and mute (blocks are in dms.ts). Registered from feedRoutes. */
export function socialRoutes(route: RouteKit, deps: Deps) {
  const toggle = (method: 'post' | 'delete', path: string, summary: string, run: typeof followUser) =>
    route({ method, path, summary, tags, auth: true, params: IdParam, responses: { 204: { description: 'Done' } } }, async (ctx, { params }) => {
      await run(deps, actorOf(ctx), params.id);
    });

  toggle('post', '/users/:id/follow', 'Follow someone: their posts reach my home feed (idempotent)', followUser);
  toggle('delete', '/users/:id/follow', 'Unfollow someone (idempotent)', unfollowUser);
  toggle('post', '/users/:id/mute', 'Mute someone: their posts and comments vanish from my feeds (idempotent)', muteUser);
  toggle('delete', '/users/:id/mute', 'Unmute someone (idempotent)', unmuteUser);

  route(
    {
      method: 'get',
      path: '/users/:id/relationship',
      summary: 'Where I stand with someone (following, muted, blocked) and their follower counts',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'The relationship', schema: Relationship } },
    },
    (ctx, { params }) => getRelationship(deps, actorOf(ctx), params.id),
  );
}
