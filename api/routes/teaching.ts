import { ChannelEnvelope, IdParam } from '../../contracts/communities.ts';
import { TeachingDto } from '../../contracts/teaching.ts';
import { courseDiscussion } from '../../domain/courses/discussion.ts';
import { listTeaching } from '../../domain/courses/teaching.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

/** The instructor's dashboard and the course discussion. */
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

  route(
    {
      method: 'get',
      path: '/courses/:id/discussion',
      summary: "The course's discussion channel (its instructors and enrolled learners), for the chat view",
      tags: ['courses'],
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'The channel, with my unread and mention counts', schema: ChannelEnvelope } },
    },
    async (ctx, { params }) => ({ channel: await courseDiscussion(deps, actorOf(ctx), params.id) }),
  );
}
