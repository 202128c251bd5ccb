import { MarkNotificationsReadInput, NotificationList, NotificationListQuery, UnreadNotificationCount } from '../../contracts/notifications.ts';
import { listNotifications, markNotificationsRead, unreadNotifications } from '../../domain/notifications/inbox.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

/** The notification centre: my notifications, my unread count, marking them read (my other devices follow live). */
export function notificationRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/notifications',
      summary: 'My notifications, newest first, with my unread count (only about what I may still read)',
      tags: ['notifications'],
      auth: true,
      query: NotificationListQuery,
      responses: { 200: { description: 'A page of notifications', schema: NotificationList } },
    },
    async (ctx, { query }) => listNotifications(deps, actorOf(ctx), query),
  );

  route(
    {
      method: 'get',
      path: '/notifications/unread-count',
      summary: 'How many of my notifications are unread',
      tags: ['notifications'],
      auth: true,
      responses: { 200: { description: 'The unread count', schema: UnreadNotificationCount } },
    },
    async (ctx) => unreadNotifications(deps, actorOf(ctx)),
  );

  route(
    {
      method: 'post',
      path: '/notifications/read',
      summary: 'Mark notifications read, by id or up to a moment; my other devices hear notification:read',
      tags: ['notifications'],
      auth: true,
      body: MarkNotificationsReadInput,
      responses: { 200: { description: 'The unread count after', schema: UnreadNotificationCount } },
    },
    async (ctx, { body }) => markNotificationsRead(deps, actorOf(ctx), body),
  );
}
