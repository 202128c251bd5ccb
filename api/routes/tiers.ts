import { CreateTierInput, SubscriptionDto, SubscriptionList, TierDto, TierList, UpdateTierInput } from '../../contracts/commerce.ts';
import { IdParam } from '../../contracts/communities.ts';
import { cancelMySubscription, listMySubscriptions } from '../../domain/commerce/subscriptions.ts';
import { createTier, listTiers, updateTier } from '../../domain/commerce/tiers.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf, viewerOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

/** Paid community tiers and subscriptions. */
export function tierRoutes(route: RouteKit, deps: Deps) {
  const tags = ['commerce'];

  route(
    {
      method: 'get',
      path: '/communities/:id/tiers',
      summary: "A community's membership tiers with my subscription to each; `paid` when joining takes one",
      tags,
      auth: 'optional',
      params: IdParam,
      responses: { 200: { description: 'Active tiers (owners and admins also see retired ones)', schema: TierList } },
    },
    async (ctx, { params }) => listTiers(deps, viewerOf(ctx), params.id),
  );

  route(
    {
      method: 'post',
      path: '/communities/:id/tiers',
      summary: 'Sell membership of the community by the month or the year (owners and admins); the community becomes paid',
      tags,
      auth: true,
      params: IdParam,
      body: CreateTierInput,
      responses: { 201: { description: 'Created, active', schema: TierDto } },
    },
    async (ctx, { params, body }) => createTier(deps, actorOf(ctx), params.id, body),
  );

  route(
    {
      method: 'patch',
      path: '/tiers/:id',
      summary: "Rename, describe, retire or reactivate a tier (its price is fixed: a new price is a new tier)",
      tags,
      auth: true,
      params: IdParam,
      body: UpdateTierInput,
      responses: { 200: { description: 'Updated', schema: TierDto } },
    },
    async (ctx, { params, body }) => updateTier(deps, actorOf(ctx), params.id, body),
  );

  route(
    {
      method: 'get',
      path: '/me/subscriptions',
      summary: 'My community subscriptions, newest first',
      tags,
      auth: true,
      responses: { 200: { description: 'Started subscriptions (active, past due, cancelled or ended)', schema: SubscriptionList } },
    },
    async (ctx) => listMySubscriptions(deps, actorOf(ctx)),
  );

  route(
    {
      method: 'post',
      path: '/subscriptions/:id/cancel',
      summary: 'Cancel my subscription at the end of the paid period (membership lasts until then)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Set to end at the period end', schema: SubscriptionDto } },
    },
    async (ctx, { params }) => cancelMySubscription(deps, actorOf(ctx), params.id),
  );
}
