import { PresenceList, PresenceQuery } from '../../contracts/chat.ts';
import { IdParam } from '../../contracts/communities.ts';
import { getCommunityPresence, getPeoplePresence } from '../../domain/presence/communityPresence.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

export function presenceRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/communities/:id/presence',
      summary: "Members of the community who are not offline, with their status (members only; live updates reach sockets that follow them with presence:watch)",
      tags: ['presence'],
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Present members', schema: PresenceList } },
    },
    async (ctx, { params }) => {
      return { data: await getCommunityPresence(deps, actorOf(ctx), params.id) };
    },
  );
  route(
    {
      method: 'get',
      path: '/presence',
      summary:
        'Of these people (comma-separated ids, at most 100), those who are not offline, with their status; people who share no community with the caller are left out',
      tags: ['presence'],
      auth: true,
      query: PresenceQuery,
      responses: { 200: { description: 'Present people', schema: PresenceList } },
    },
    async (ctx, { query }) => {
      return { data: await getPeoplePresence(deps, actorOf(ctx), query.userIds) };
    },
  );
}
