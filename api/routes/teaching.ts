import { TeachingDto } from '../../contracts/teaching.ts';
import { listTeaching } from '../../domain/courses/teaching.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

/** The instructor's dashboard. */
export function teachingRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/me/teaching',
      summary: 'Courses I teach and ebooks I wrote, with those of communities I own or administer — drafts included',
      tags: ['courses', 'ebooks'],
      auth: true,
      responses: { 200: { description: 'Most recently changed first', schema: TeachingDto } },
    },
    async (ctx) => listTeaching(deps, actorOf(ctx)),
  );
}
