import { DashboardDto } from '../../contracts/dashboard.ts';
import { getDashboard } from '../../domain/dashboard/dashboard.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

/** The home dashboard: what I am learning, what starts soon, what waits unread, what is new, what I teach. */
export function dashboardRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/me/dashboard',
      summary: 'My home dashboard in one answer (each section only shows what I may read)',
      tags: ['account'],
      auth: true,
      responses: { 200: { description: 'The dashboard', schema: DashboardDto } },
    },
    async (ctx) => getDashboard(deps, actorOf(ctx)),
  );
}
