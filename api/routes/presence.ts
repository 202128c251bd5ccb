import { PresenceList } from '../../contracts/chat.ts';
import { IdParam } from '../../contracts/communities.ts';
import { getCommunityPresence } from '../../domain/presence/communityPresence.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

export function presenceRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/communities/:id/presence',
      summary: "Members of the community who are not offline, with their status (members only; live updates arrive as presence:updated)",
      tags: ['presence'],
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Present members', schema: PresenceList } },
    },
    async (ctx, { params }) => {
      const entries = await getCommunityPresence(deps, actorOf(ctx), params.id);
      // Offline members are never listed; narrowing here lets the compiler hold the answer to PresenceList.
      return { data: entries.flatMap(({ userId, status }) => (status === 'offline' ? [] : [{ userId, status }])) };
    },
  );
}
