import { PushSubscriptionDto, PushSubscriptionInput, RemovePushSubscriptionInput, VapidKeyDto } from '../../contracts/notifications.ts';
import { subscribePush, unsubscribePush, vapidPublicKey } from '../../domain/notifications/push.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

/** Web push: the VAPID public key and my devices' subscriptions. */
export function pushRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/push/vapid-public-key',
      summary: "The server's VAPID public key, to subscribe a browser to web push (unavailable when push is off)",
      tags: ['notifications'],
      auth: true,
      responses: { 200: { description: 'The key (base64url)', schema: VapidKeyDto } },
    },
    async () => vapidPublicKey(deps),
  );

  route(
    {
      method: 'post',
      path: '/me/push-subscriptions',
      summary: "Subscribe this browser to my notifications by web push (upsert by endpoint)",
      tags: ['notifications'],
      auth: true,
      body: PushSubscriptionInput,
      responses: { 201: { description: 'Subscribed', schema: PushSubscriptionDto } },
    },
    async (ctx, { body }) => subscribePush(deps, actorOf(ctx), body, ctx.state.client),
  );

  route(
    {
      method: 'delete',
      path: '/me/push-subscriptions',
      summary: 'Unsubscribe one of my browsers from web push',
      tags: ['notifications'],
      auth: true,
      body: RemovePushSubscriptionInput,
      responses: { 204: { description: 'No longer subscribed' } },
    },
    async (ctx, { body }) => unsubscribePush(deps, actorOf(ctx), body.endpoint),
  );
}
