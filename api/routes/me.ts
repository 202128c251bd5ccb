import { UserEnvelope } from '../../contracts/auth.ts';
import { getMe } from '../../domain/auth/accounts.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';
import { profileRoutes } from './profiles.ts';

export function meRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/me',
      summary: 'The signed-in user',
      tags: ['account'],
      auth: true,
      responses: { 200: { description: 'Me', schema: UserEnvelope } },
    },
    async (ctx) => ({ user: await getMe(deps, actorOf(ctx)) }),
  );
  profileRoutes(route, deps);
}
