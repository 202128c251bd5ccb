import { z } from 'zod';
import { NotificationPreferencesDto, UpdateNotificationPreferencesInput } from '../../contracts/notifications.ts';
import { userOfUnsubscribeToken } from '../../domain/notifications/emailDigest.ts';
import { myPreferences, unsubscribeFromEmail, updatePreferences } from '../../domain/notifications/preferences.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { AppError } from '../../domain/shared/errors.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

const UnsubscribeQuery = z.object({ token: z.string().max(200) });
const Unsubscribed = z
  .object({ unsubscribed: z.literal(true), message: z.string() })
  .describe('EmailUnsubscribed');

/** My notification preferences and the one-click e-mail unsubscribe. */
export function notificationPreferenceRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/me/notification-preferences',
      summary: 'My notification preferences (every kind and channel, muted communities, quiet hours, time zone)',
      tags: ['notifications'],
      auth: true,
      responses: { 200: { description: 'My preferences', schema: NotificationPreferencesDto } },
    },
    async (ctx) => myPreferences(deps, actorOf(ctx)),
  );

  route(
    {
      method: 'put',
      path: '/me/notification-preferences',
      summary: 'Change my notification preferences (the fields sent replace mine; kinds merge per kind and channel)',
      tags: ['notifications'],
      auth: true,
      body: UpdateNotificationPreferencesInput,
      responses: { 200: { description: 'My preferences after the change', schema: NotificationPreferencesDto } },
    },
    async (ctx, { body }) => updatePreferences(deps, actorOf(ctx), body),
  );

  const unsubscribe = async (token: string) => {
    const userId = userOfUnsubscribeToken(deps, token);
    if (!userId) throw new AppError('invalid_input', 'This unsubscribe link is not valid.');
    await unsubscribeFromEmail(deps, userId);
    return { unsubscribed: true as const, message: 'You will get no more notification e-mails. Turn them back on in your notification settings.' };
  };

  route(
    {
      method: 'post',
      path: '/notifications/unsubscribe',
      summary: 'One-click unsubscribe from notification e-mails (RFC 8058; the token from the List-Unsubscribe link, no sign-in)',
      tags: ['notifications'],
      auth: false,
      query: UnsubscribeQuery,
      responses: { 200: { description: 'Unsubscribed', schema: Unsubscribed } },
    },
    async (_ctx, { query }) => unsubscribe(query.token),
  );

  route(
    {
      method: 'get',
      path: '/notifications/unsubscribe',
      summary: 'Unsubscribe from notification e-mails by following the link (no sign-in)',
      tags: ['notifications'],
      auth: false,
      query: UnsubscribeQuery,
      responses: { 200: { description: 'Unsubscribed', schema: Unsubscribed } },
    },
    async (_ctx, { query }) => unsubscribe(query.token),
  );
}
