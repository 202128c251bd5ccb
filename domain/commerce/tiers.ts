import type { Selectable } from 'kysely';
import type { CreateTierInput, TierDto } from '../../contracts/commerce.ts';
import { db, type DB, type Db } from '../../orm/db.ts';
import { loadCommunityAccess } from '../access/community.ts';
import { grantEntitlement, revokeEntitlement } from '../access/entitlement.ts';
import { assertNotBanned } from '../access/membership.ts';
import { isManagingRole, isModeratingRole, isPlatformAdmin } from '../access/roles.ts';
import { deleteMembership } from '../communities/membership.ts';
import { revokeCommunityAccess } from '../communities/revoke.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { AfterCommit } from './afterCommit.ts';
import './events.ts';
import type { GrantContext, GrantHandler } from './grantHandler.ts';

/*
 * Paid community tiers: a membership sold by the month or the year. A community with an active tier is paid: joining
 * it takes an active `tier` entitlement to one of its tiers (its staff and platform admins need none). The owners and
 * admins run the tiers; a tier's price is fixed once created (a new price is a new tier, so subscribers keep theirs).
 * Buying a tier opens the community (membership, announced as any join); the end of the subscription, a full refund
 * or a lost dispute closes it as a kick does, on every node — unless another tier still holds it open.
 */

type TierRow = Selectable<DB['community_tiers']>;
type SubscriptionRow = Selectable<DB['subscriptions']>;

export function presentTier(tier: TierRow, subscription: Pick<SubscriptionRow, 'id' | 'status' | 'current_period_end' | 'cancel_at_period_end'> | null): TierDto {
  return {
    id: tier.id,
    communityId: tier.community_id,
    name: tier.name,
    description: tier.description,
    priceMinor: tier.price_minor,
    currency: tier.currency,
    interval: tier.interval,
    active: tier.active,
    subscription: subscription && {
      id: subscription.id,
      status: subscription.status,
      currentPeriodEnd: subscription.current_period_end?.toISOString() ?? null,
      cancelAtPeriodEnd: subscription.cancel_at_period_end,
    },
  };
}

/** The caller's latest subscription to each of `tierIds`. */
async function mySubscriptions(q: Db, userId: string | null, tierIds: string[]): Promise<Map<string, SubscriptionRow>> {
  if (!userId || tierIds.length === 0) return new Map();
  const rows = await q
    .selectFrom('subscriptions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('tier_id', 'in', tierIds)
    .orderBy('created_at', 'desc')
    .execute();
  const latest = new Map<string, SubscriptionRow>();
  for (const row of rows) if (!latest.has(row.tier_id)) latest.set(row.tier_id, row);
  return latest;
}

/** Whether the community sells membership (has an active tier). */
export async function isPaidCommunity(q: Db, communityId: string): Promise<boolean> {
  const tier = await q.selectFrom('community_tiers').select('id').where('community_id', '=', communityId).where('active', '=', true).executeTakeFirst();
  return tier !== undefined;
}

/** An active, unexpired `tier` entitlement of the user to any tier of the community. */
export async function holdsTierOf(q: Db, userId: string, communityId: string, at: Date, exceptTierId?: string): Promise<boolean> {
  const row = await q
    .selectFrom('entitlements as e')
    .innerJoin('community_tiers as t', 't.id', 'e.resource_id')
    .select('e.id')
    .where('e.user_id', '=', userId)
    .where('e.resource_type', '=', 'tier')
    .where('t.community_id', '=', communityId)
    .where('e.revoked_at', 'is', null)
    .where((eb) => eb.or([eb('e.expires_at', 'is', null), eb('e.expires_at', '>', at)]))
    .$if(exceptTierId !== undefined, (qb) => qb.where('t.id', '<>', exceptTierId!))
    .executeTakeFirst();
  return row !== undefined;
}

async function authorizeTierManagement(q: Db, actor: Actor, communityId: string): Promise<void> {
  const access = await loadCommunityAccess(q, actor.userId, communityId);
  if (!isManagingRole(access.role) && !isPlatformAdmin(actor)) {
    throw new AppError('forbidden', 'Only the owners and admins of the community can manage its membership tiers.');
  }
}

/** POST /communities/:id/tiers — by the community's owners and admins. */
export async function createTier(deps: Deps, actor: Actor, communityId: string, input: CreateTierInput): Promise<TierDto> {
  return deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    await authorizeTierManagement(q, actor, communityId);
    const now = deps.clock.now();
    const tier = await q
      .insertInto('community_tiers')
      .values({
        id: crypto.randomUUID(),
        community_id: communityId,
        name: input.name,
        description: input.description,
        price_minor: input.priceMinor,
        currency: input.currency,
        interval: input.interval,
        active: true,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return presentTier(tier, null);
  });
}

/**
 * GET /communities/:id/tiers — what the community sells, with the caller's subscription to each. Buyers see the
 * active tiers; the owners and admins also the retired ones. `paid`: joining takes a tier.
 */
export async function listTiers(deps: Deps, viewer: Actor | null, communityId: string): Promise<{ data: TierDto[]; paid: boolean }> {
  const q = db(deps.orm.em.fork());
  // An anonymous visitor sees what anyone outside sees (public communities only).
  const access = await loadCommunityAccess(q, viewer?.userId ?? crypto.randomUUID(), communityId);
  const manages = viewer !== null && (isManagingRole(access.role) || isPlatformAdmin(viewer));
  const tiers = await q
    .selectFrom('community_tiers')
    .selectAll()
    .where('community_id', '=', communityId)
    .$if(!manages, (qb) => qb.where('active', '=', true))
    .orderBy('active', 'desc')
    .orderBy('price_minor')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const subscriptions = await mySubscriptions(
    q,
    viewer?.userId ?? null,
    tiers.map((t) => t.id),
  );
  return {
    data: tiers.map((t) => presentTier(t, subscriptions.get(t.id) ?? null)),
    paid: tiers.some((t) => t.active),
  };
}

/** PATCH /tiers/:id — name, description, active. The price is fixed: a new price is a new tier. */
export async function updateTier(
  deps: Deps,
  actor: Actor,
  tierId: string,
  input: { name?: string | undefined; description?: string | undefined; active?: boolean | undefined },
): Promise<TierDto> {
  return deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const tier = await q.selectFrom('community_tiers').selectAll().where('id', '=', tierId).forUpdate().executeTakeFirst();
    if (!tier) throw new AppError('not_found', 'No such tier.');
    try {
      await authorizeTierManagement(q, actor, tier.community_id);
    } catch (err) {
      // Someone who cannot see the community learns nothing of its tiers.
      if (err instanceof AppError && err.code === 'not_found') throw new AppError('not_found', 'No such tier.');
      throw err;
    }
    const updated = await q
      .updateTable('community_tiers')
      .set({ name: input.name, description: input.description, active: input.active, updated_at: deps.clock.now() })
      .where('id', '=', tierId)
      .returningAll()
      .executeTakeFirstOrThrow();
    const subscription = (await mySubscriptions(q, actor.userId, [tierId])).get(tierId) ?? null;
    return presentTier(updated, subscription);
  });
}

/**
 * Joining a paid community (joinCommunity) takes an active tier entitlement, unless the caller is a platform admin.
 * Throws the conflict the web turns into "choose a membership tier".
 */
export async function assertMayJoinPaid(q: Db, actor: Actor, communityId: string, at: Date): Promise<void> {
  if (isPlatformAdmin(actor)) return;
  if (!(await isPaidCommunity(q, communityId))) return;
  if (await holdsTierOf(q, actor.userId, communityId, at)) return;
  throw new AppError('conflict', 'This community is paid: choose a membership tier.', { details: { communityId } });
}

const announce = (deps: Deps, event: 'entitlement.granted' | 'entitlement.revoked', ctx: GrantContext): AfterCommit => () =>
  deps.events.emit(event, { userId: ctx.userId, resourceType: 'tier', resourceId: ctx.resourceId, orderId: ctx.order.id });

/** The subscription an order belongs to (its first order, or a renewal's), locked. */
async function subscriptionOfOrder(q: Db, order: GrantContext['order']): Promise<SubscriptionRow | undefined> {
  let query = q.selectFrom('subscriptions').selectAll();
  query = order.subscription_id ? query.where('id', '=', order.subscription_id) : query.where('first_order_id', '=', order.id);
  return query.forUpdate().executeTakeFirst();
}

/**
 * A tier's door: the `tier` entitlement (until the end of the paid period) and the community membership. Granting
 * activates the order's subscription; revoking closes the community as a kick does unless another tier or a staff
 * role keeps the member in.
 */
export const tierGrantHandler: GrantHandler = {
  async grant(deps, q, ctx) {
    const tier = await q.selectFrom('community_tiers').selectAll().where('id', '=', ctx.resourceId).executeTakeFirst();
    if (!tier) return [];
    const subscription = await subscriptionOfOrder(q, ctx.order);
    if (subscription && subscription.status === 'incomplete') {
      await q.updateTable('subscriptions').set({ status: 'active', updated_at: ctx.at }).where('id', '=', subscription.id).execute();
    }
    const expiresAt = ctx.expiresAt ?? subscription?.current_period_end ?? null;
    const inserted = await grantEntitlement(q, {
      userId: ctx.userId,
      resource: { type: 'tier', id: ctx.resourceId },
      source: 'order',
      orderId: ctx.order.id,
      expiresAt,
      at: ctx.at,
    });
    if (!inserted && expiresAt) {
      // Already open (a renewal): the door stays open to the end of the new period.
      await q
        .updateTable('entitlements')
        .set({ expires_at: expiresAt })
        .where('user_id', '=', ctx.userId)
        .where('resource_type', '=', 'tier')
        .where('resource_id', '=', ctx.resourceId)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '<', expiresAt)]))
        .execute();
    }
    const after: AfterCommit[] = [];
    let barred = false;
    try {
      await assertNotBanned(q, tier.community_id, ctx.userId, ctx.at);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      barred = true;
    }
    if (barred) {
      deps.logger.warn({ orderId: ctx.order.id, communityId: tier.community_id, userId: ctx.userId }, 'tiers: a barred member paid for a tier; not re-admitted');
    } else {
      const joined = await q
        .insertInto('community_members')
        .values({ community_id: tier.community_id, user_id: ctx.userId, role: 'member' })
        .onConflict((oc) => oc.doNothing())
        .returning('user_id')
        .executeTakeFirst();
      if (joined) after.push(() => deps.events.emit('member.joined', { communityId: tier.community_id, userId: ctx.userId }));
    }
    after.push(announce(deps, 'entitlement.granted', ctx));
    return after;
  },

  async revoke(deps, q, ctx) {
    // Whichever order opened it (renewals keep the first order's entitlement open).
    const revoked = await revokeEntitlement(q, ctx.userId, { type: 'tier', id: ctx.resourceId }, ctx.at);
    if (!revoked) return [];
    const after: AfterCommit[] = [];
    const tier = await q.selectFrom('community_tiers').select('community_id').where('id', '=', ctx.resourceId).executeTakeFirst();
    if (tier) {
      const communityId = tier.community_id;
      // The community row lock serialises membership changes (as leaving and kicks do).
      await q.selectFrom('communities').select('id').where('id', '=', communityId).forUpdate().execute();
      const member = await q
        .selectFrom('community_members')
        .select('role')
        .where('community_id', '=', communityId)
        .where('user_id', '=', ctx.userId)
        .executeTakeFirst();
      const keeps = !member || isModeratingRole(member.role) || (await holdsTierOf(q, ctx.userId, communityId, ctx.at));
      if (!keeps) {
        const channelIds = await deleteMembership(q, communityId, ctx.userId);
        after.push(() => revokeCommunityAccess(deps, ctx.userId, communityId, channelIds));
      }
    }
    after.push(announce(deps, 'entitlement.revoked', ctx));
    return after;
  },
};
