import { describe, expect, inject, it } from 'vitest';
import type { OrderList, SubscriptionDto, TierDto } from '../../contracts/commerce.ts';
import { processPaymentEvent } from '../../domain/commerce/paymentEvents.ts';
import { renewTestSubscriptions } from '../../domain/commerce/testSubscriptions.ts';
import { checkoutAs, payTestOrder } from '../../test/commerceFactories.ts';
import { seedWorld } from '../../test/communities.ts';
import { call, collect, emitOk, eventually, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { twoNodes } from '../../test/cluster.ts';
import { dbOf } from '../../test/nodes.ts';

/*
 * Paid community tiers: the owner sells membership, the community becomes paid, buying a tier with test payments makes
 * the buyer a member; the subscription's end removes them as a kick does, live on every node; renewals extend the
 * door and cancelling ends it at the period end.
 */

type TierList = { data: TierDto[]; paid: boolean };

describe.skipIf(!inject('redisUrl'))('paid community tiers (two nodes, one Redis)', () => {
  const two = twoNodes();
  const isMember = async (communityId: string, userId: string) =>
    (await dbOf(two.nodeA).selectFrom('community_members').select('role').where('community_id', '=', communityId).where('user_id', '=', userId).executeTakeFirst()) !==
    undefined;
  const tierBody = { name: 'Supporter', description: 'Monthly membership', priceMinor: 900, currency: 'EUR', interval: 'month' };

  /** Buys the tier with the test provider and waits until it is paid. */
  async function subscribe(buyer: TestUser, tierId: string) {
    const checkout = await ok(checkoutAs(two.nodeA, buyer, { productId: tierId }), 201);
    expect(checkout.payment).toEqual({ provider: 'test', paymentUrl: `/app/checkout/test/${checkout.order.id}` });
    expect(checkout.order).toMatchObject({ productType: 'tier', totalMinor: 900, currency: 'EUR', status: 'pending' });
    expect((await payTestOrder(two.nodeA, buyer, checkout.order.id, 'pay')).status).toBe('paid');
    const subscription = await dbOf(two.nodeA).selectFrom('subscriptions').selectAll().where('first_order_id', '=', checkout.order.id).executeTakeFirstOrThrow();
    return { order: checkout.order, subscription };
  }

  it("sells membership; the subscription's end on node A removes the member from the community's rooms on node B", async () => {
    const world = await seedWorld(two.nodeA, {
      people: { owner: 'owner', friend: 'member', buyer: null },
      channels: [{ name: 'general' }],
    });
    const { communityId, owner, friend, buyer } = world;
    const generalId = world.channels.general;

    // Only owners and admins sell; once they do, the community is paid.
    expect((await call(two.nodeA, 'POST', `/communities/${communityId}/tiers`, friend, tierBody)).status).toBe(403);
    expect((await call(two.nodeA, 'POST', `/communities/${communityId}/tiers`, owner, { ...tierBody, amountMinor: 1 })).status).toBe(400);
    expect(await ok(call<TierList>(two.nodeB, 'GET', `/communities/${communityId}/tiers`, null))).toEqual({ data: [], paid: false });
    const tier = await ok(call<TierDto>(two.nodeA, 'POST', `/communities/${communityId}/tiers`, owner, tierBody), 201);
    expect(tier).toEqual({ id: expect.any(String), communityId, ...tierBody, active: true, subscription: null });
    expect(await ok(call<TierList>(two.nodeB, 'GET', `/communities/${communityId}/tiers`, null))).toEqual({ data: [tier], paid: true });

    const join = await call(two.nodeA, 'POST', `/communities/${communityId}/join`, buyer);
    expect(join.status).toBe(409);
    expect(join.body.error).toEqual({ code: 'conflict', message: 'This community is paid: choose a membership tier.', details: { communityId } });

    // Buying the tier makes the buyer a member, with an active subscription.
    const { order, subscription } = await subscribe(buyer, tier.id);
    expect(await isMember(communityId, buyer.user.id)).toBe(true);
    const mine = await ok(call<TierList>(two.nodeA, 'GET', `/communities/${communityId}/tiers`, buyer));
    expect(mine.data[0]!.subscription).toMatchObject({ id: subscription.id, status: 'active', cancelAtPeriodEnd: false });
    expect(new Date(mine.data[0]!.subscription!.currentPeriodEnd!).getTime()).toBeGreaterThan(Date.now() + 27 * 86_400_000);
    const listed = await ok(call<{ data: SubscriptionDto[] }>(two.nodeB, 'GET', '/me/subscriptions', buyer));
    expect(listed.data).toEqual([expect.objectContaining({ id: subscription.id, status: 'active', community: expect.objectContaining({ id: communityId }) })]);

    // The member reads the community's channel on node B, next to a fellow member; the owner writes on node A.
    const buyerOnB = await two.socketOn(two.nodeB, buyer);
    const friendOnB = await two.socketOn(two.nodeB, friend);
    const ownerOnA = await two.socketOn(two.nodeA, owner);
    for (const socket of [buyerOnB, friendOnB, ownerOnA]) await emitOk(socket, 'channel:join', { channelId: generalId });
    const removed = collect(buyerOnB, 'channel:removed');
    const revoked = collect(buyerOnB, 'entitlement:revoked');
    const buyerHears = collect(buyerOnB, 'message:created');
    const friendHears = collect(friendOnB, 'message:created');

    // The provider reports the subscription ended, processed on node A.
    const outcome = await processPaymentEvent(two.nodeA.node.deps, {
      id: `test_evt_${crypto.randomUUID()}`,
      provider: 'test',
      type: 'subscription.deleted',
      subscriptionId: subscription.provider_subscription_id!,
      status: 'ended',
      currentPeriodEnd: null,
      cancelAtPeriodEnd: false,
    });
    expect(outcome).toMatchObject({ outcome: 'ended', orderId: order.id, duplicate: false });
    await eventually(() => removed.some((e) => e.channelId === generalId) && revoked.length === 1, 2000, 'channel:removed and entitlement:revoked on node B');
    expect(revoked).toEqual([{ resourceType: 'tier', resourceId: tier.id, orderId: order.id }]);
    expect(await isMember(communityId, buyer.user.id)).toBe(false);
    expect((await ok(call<{ data: SubscriptionDto[] }>(two.nodeA, 'GET', '/me/subscriptions', buyer))).data[0]).toMatchObject({ status: 'ended' });

    // Out of the room: the owner's next message reaches the fellow member on node B but not the former one.
    await emitOk(ownerOnA, 'message:send', { channelId: generalId, clientId: `after-end-${buyer.user.id}`, body: 'members only' });
    await eventually(() => friendHears.length === 1, 2000, 'the fellow member hears the message');
    expect(buyerHears).toEqual([]);
    expect((await call(two.nodeB, 'POST', `/communities/${communityId}/join`, buyer)).status).toBe(409);
    // The same event again changes nothing.
    const again = await processPaymentEvent(two.nodeA.node.deps, {
      id: `test_evt_${crypto.randomUUID()}`,
      provider: 'test',
      type: 'subscription.deleted',
      subscriptionId: subscription.provider_subscription_id!,
      status: 'ended',
      currentPeriodEnd: null,
      cancelAtPeriodEnd: false,
    });
    expect(again.outcome).toBe('ignored_ended');
  });

  it('test subscriptions renew at period end with a paid order each; cancelled ones end there', async () => {
    const [owner, subscriber] = await registerUsers(two.nodeA.url, 2);
    const { communityId } = await seedWorld(two.nodeA, { people: {} });
    await dbOf(two.nodeA).insertInto('community_members').values({ community_id: communityId, user_id: owner.user.id, role: 'owner' }).execute();
    const tier = await ok(call<TierDto>(two.nodeA, 'POST', `/communities/${communityId}/tiers`, owner, { ...tierBody, interval: 'year' }), 201);
    const { subscription } = await subscribe(subscriber, tier.id);
    const deps = two.nodeA.node.deps;
    const firstEnd = subscription.current_period_end!;

    // The period ends: one renewal, however often the reconciliation runs.
    expect(await renewTestSubscriptions(deps, new Date(firstEnd.getTime() + 1000))).toBeGreaterThanOrEqual(1);
    await renewTestSubscriptions(deps, new Date(firstEnd.getTime() + 1000));
    const renewed = await dbOf(two.nodeA).selectFrom('subscriptions').selectAll().where('id', '=', subscription.id).executeTakeFirstOrThrow();
    expect(renewed.status).toBe('active');
    expect(renewed.current_period_end!.getUTCFullYear()).toBe(firstEnd.getUTCFullYear() + 1);
    const orders = await ok(call<OrderList>(two.nodeA, 'GET', '/me/orders', subscriber));
    expect(orders.data.filter((o) => o.productId === tier.id).map((o) => o.status)).toEqual(['paid', 'paid']);
    const entitlement = await dbOf(two.nodeA)
      .selectFrom('entitlements')
      .select(['expires_at', 'revoked_at'])
      .where('user_id', '=', subscriber.user.id)
      .where('resource_id', '=', tier.id)
      .executeTakeFirstOrThrow();
    expect(entitlement).toEqual({ expires_at: renewed.current_period_end, revoked_at: null });

    // Cancelled: the member stays until the period ends, then the reconciliation ends it.
    const cancelled = await ok(call<SubscriptionDto>(two.nodeA, 'POST', `/subscriptions/${subscription.id}/cancel`, subscriber));
    expect(cancelled).toMatchObject({ id: subscription.id, status: 'active', cancelAtPeriodEnd: true });
    expect((await call(two.nodeA, 'POST', `/subscriptions/${subscription.id}/cancel`, owner)).status).toBe(404);
    expect(await isMember(communityId, subscriber.user.id)).toBe(true);
    await renewTestSubscriptions(deps, new Date(renewed.current_period_end!.getTime() + 1000));
    expect(await isMember(communityId, subscriber.user.id)).toBe(false);
    expect((await dbOf(two.nodeA).selectFrom('subscriptions').select('status').where('id', '=', subscription.id).executeTakeFirstOrThrow()).status).toBe('ended');
    expect(await isMember(communityId, owner.user.id)).toBe(true);
  });
});
