import { OutboxList } from '../../contracts/auth.ts';
import { listOutbox } from '../../domain/notifications/outbox.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import type { RouteKit } from '../routeKit.ts';

/** Development only (no SMTP, not production): lets a developer read the e-mails the app would have sent. */
export function devRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/dev/outbox',
      summary: 'Queued e-mails (development only)',
      tags: ['development'],
      auth: false,
      responses: { 200: { description: 'Newest first', schema: OutboxList } },
    },
    async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      return { data: await listOutbox(deps) };
    },
  );
}
