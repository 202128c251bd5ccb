import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassroomDto } from '../../contracts/classrooms.ts';
import type { CheckoutResponse } from '../../contracts/commerce.ts';
import { runAfterCommit } from '../../domain/commerce/afterCommit.ts';
import { revokeOrderLines } from '../../domain/commerce/grants.ts';
import { lockOrder } from '../../domain/commerce/orderRows.ts';
import { db } from '../../orm/db.ts';
import { classroomCommunity, scheduleClassroom, minutesFrom } from '../../test/classroomFactories.ts';
import { checkoutAs, payTestOrder } from '../../test/commerceFactories.ts';
import { call, collect, connectSocket, eventually, ok, type ClientSocket, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

/*
 * Paid classroom seats through the real checkout and test payments: seats held while buyers pay count against the
 * capacity, a full class waitlists for free, a seat given back goes to the first in line as a held seat, payment seats
 * the buyer, and a refund takes the seat away and offers it on.
 */

let node: RunningNode;
const sockets: ClientSocket[] = [];
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await node?.close();
});

const standing = async (classroomId: string, userId: string) =>
  (
    await dbOf(node)
      .selectFrom('classroom_registrations')
      .select(['status', 'order_id', 'hold_expires_at'])
      .where('classroom_id', '=', classroomId)
      .where('user_id', '=', userId)
      .executeTakeFirst()
  ) ?? null;
const ticketOf = (classroomId: string, userId: string) =>
  dbOf(node)
    .selectFrom('entitlements')
    .select(['order_id', 'revoked_at', 'source'])
    .where('resource_type', '=', 'classroom')
    .where('resource_id', '=', classroomId)
    .where('user_id', '=', userId)
    .execute();
const view = async (classroomId: string, user: TestUser) => (await ok(call<{ classroom: ClassroomDto }>(node, 'GET', `/classrooms/${classroomId}`, user))).classroom;

describe('paid classroom seats', () => {
  it('holds at most the capacity, waitlists for free, offers a given-back seat to the first in line, seats payers and unseats a refund', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 5);
    const [a, b, c, w, late] = learners as [TestUser, TestUser, TestUser, TestUser, TestUser];
    const classroom = await scheduleClassroom(node, host, communityId, { capacity: 2, priceMinor: 1500, currency: 'EUR', startsAt: minutesFrom(120) });

    // Three buyers at once for two seats: two holds, one refusal pointing at the waitlist.
    const answers = await Promise.all([a, b, c].map((u) => checkoutAs(node, u, { productId: classroom.id })));
    const held = answers.filter((r) => r.status === 201);
    const refused = answers.filter((r) => r.status !== 201);
    expect(held).toHaveLength(2);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.status).toBe(409);
    expect(refused[0]!.body).toMatchObject({
      error: { code: 'conflict', message: 'This class is full: join the waitlist and you will be offered the next free seat.', details: { waitlist: true } },
    });
    const buyers = [a, b, c].filter((_, i) => answers[i]!.status === 201) as [TestUser, TestUser];
    const [first, second] = buyers;
    const outOfLuck = [a, b, c].find((_, i) => answers[i]!.status !== 201)!;
    const orderOf = (u: TestUser) => (answers[[a, b, c].indexOf(u)]!.body as CheckoutResponse).order;
    for (const u of buyers) expect(await standing(classroom.id, u.user.id)).toMatchObject({ status: 'held', order_id: orderOf(u).id });
    expect(orderOf(first)).toMatchObject({ status: 'pending', totalMinor: 1500, currency: 'EUR', productType: 'classroom' });

    // Without a ticket a full class is joined on the waitlist, for free; registering is no way round the price.
    const waitlisted = await call<{ registration: { status: string } }>(node, 'POST', `/classrooms/${classroom.id}/register`, outOfLuck);
    expect(waitlisted.status).toBe(201);
    expect(waitlisted.body.registration.status).toBe('waitlisted');
    expect((await call(node, 'POST', `/classrooms/${classroom.id}/register`, w)).status).toBe(201);
    expect((await checkoutAs(node, w, { productId: classroom.id })).status).toBe(409);

    // The first buyer declines: their seat is offered to the first in line, held for them.
    const promoted = collect(await connectSocket(node.url, outOfLuck.accessToken).then((s) => (sockets.push(s), s)), 'classroom:registration_promoted');
    expect((await payTestOrder(node, first, orderOf(first).id, 'decline')).status).toBe('failed');
    expect(await standing(classroom.id, first.user.id)).toMatchObject({ status: 'cancelled' });
    await eventually(() => promoted.length === 1, 3000, 'the offer reaches the first in line');
    expect(promoted).toEqual([{ classroomId: classroom.id, title: classroom.title }]);
    const offer = await standing(classroom.id, outOfLuck.user.id);
    expect(offer).toMatchObject({ status: 'held', order_id: null });
    expect(offer!.hold_expires_at!.getTime()).toBeGreaterThan(Date.now());
    expect(await view(classroom.id, outOfLuck)).toMatchObject({ myRegistration: 'held', myHoldExpiresAt: offer!.hold_expires_at!.toISOString() });
    // Someone else cannot take the offered seat: it is held.
    expect((await checkoutAs(node, late, { productId: classroom.id })).status).toBe(409);

    // The one it was offered to buys it: the checkout takes over the held seat; paying seats them, with a ticket.
    const bought = await ok(checkoutAs(node, outOfLuck, { productId: classroom.id }), 201);
    expect(await standing(classroom.id, outOfLuck.user.id)).toMatchObject({ status: 'held', order_id: bought.order.id });
    expect((await payTestOrder(node, outOfLuck, bought.order.id, 'pay')).status).toBe('paid');
    expect((await payTestOrder(node, second, orderOf(second).id, 'pay')).status).toBe('paid');
    for (const [u, orderId] of [
      [outOfLuck, bought.order.id],
      [second, orderOf(second).id],
    ] as const) {
      expect(await standing(classroom.id, u.user.id)).toMatchObject({ status: 'registered', order_id: orderId });
      expect(await ticketOf(classroom.id, u.user.id)).toEqual([{ order_id: orderId, revoked_at: null, source: 'order' }]);
      expect(await view(classroom.id, u)).toMatchObject({ myRegistration: 'registered', myRole: 'learner', registeredCount: 2 });
    }

    // A refund closes the door: the ticket is revoked, the seat cancelled and offered to the next in line (w).
    const deps = node.node.deps;
    const after = await deps.orm.em.fork().transactional(async (tx) => {
      const q = db(tx);
      const order = (await lockOrder(q, orderOf(second).id))!;
      return revokeOrderLines(deps, q, order, deps.clock.now());
    });
    await runAfterCommit(after);
    expect(await standing(classroom.id, second.user.id)).toMatchObject({ status: 'cancelled' });
    expect((await ticketOf(classroom.id, second.user.id))[0]!.revoked_at).not.toBeNull();
    expect(await standing(classroom.id, w.user.id)).toMatchObject({ status: 'held', order_id: null });
    expect(await view(classroom.id, second)).toMatchObject({ myRegistration: null, myRole: null, registeredCount: 1 });
    // The refunded learner may come back only by buying again (the seat is held for w meanwhile).
    const again = await call<{ registration: { status: string } }>(node, 'POST', `/classrooms/${classroom.id}/register`, second);
    expect(again.status).toBe(201);
    expect(again.body.registration.status).toBe('waitlisted');
  });
});
