import { z } from 'zod';
import { IdParam } from '../../contracts/communities.ts';
import { getCommunityPresence } from '../../domain/presence/communityPresence.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

const PresenceEntry = z
  .object({ userId: z.uuid(), status: z.enum(['online', 'away', 'dnd']) })
  .describe('PresenceEntry');

export function presenceRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/communities/:id/presence',
      summary: "Members of the community who are not offline, with their status (members only; live updates arrive as presence:updated)",
      tags: ['presence'],
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Present members', schema: z.object({ data: z.array(PresenceEntry) }) } },
    },
    async (ctx, { params }) => {
      ctx.body = { data: await getCommunityPresence(deps, actorOf(ctx), params.id) };
    },
  );
}
