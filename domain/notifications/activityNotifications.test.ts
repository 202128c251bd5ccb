import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OrderDto } from '../../contracts/commerce.ts';
import type { CaseDto } from '../../contracts/moderation.ts';
import type { NotificationDto, NotificationKind, NotificationList } from '../../contracts/notifications.ts';
import type { DomainEvents } from '../shared/events.ts';
import { classroomCommunity, scheduleClassroom } from '../../test/classroomFactories.ts';
import { checkoutAs, payTestOrder, pricedCourse } from '../../test/commerceFactories.ts';
import { seedWorld } from '../../test/communities.ts';
import { call, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { enrol, seedCourse } from '../../test/learningFactories.ts';
import { moderationWorld, reportedPerson } from '../../test/moderationFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

/*
 * Activity notifications on one node, driven through the real routes where that is cheap (follow, checkout and test
 * payment, hand-in and grading with the certificate it earns, waitlist promotion, a moderator's action on a report)
 * and by emitting the domain event for the rest. Each lands once in the recipient's list with its kind and address;
 * the same event heard again stores nothing.
 */
describe('activity notifications', () => {
  let node: RunningNode;
  beforeAll(async () => {
    node = await startNode();
  });
  afterAll(async () => {
    await node?.close();
  });

  const listOf = async (user: TestUser) => (await ok(call<NotificationList>(node, 'GET', '/notifications', user))).data;
  const ofKind = async (user: TestUser, kind: NotificationKind) => (await listOf(user)).filter((n) => n.kind === kind);
  /** Exactly one notification of `kind` for `user`, waiting for durable listeners (they run as jobs). */
  const theOne = (user: TestUser, kind: NotificationKind): Promise<NotificationDto> =>
    vi.waitFor(
      async () => {
        const found = await ofKind(user, kind);
        if (found.length !== 1) throw new Error(`${found.length} ${kind} notifications`);
        return found[0]!;
      },
      { timeout: 10_000, interval: 50 },
    );
  const emit = <E extends keyof DomainEvents>(name: E, payload: DomainEvents[E]) => node.node.deps.events.emit(name, payload);

  it('a new follower notifies the followee once, even when followed again or the event repeats', async () => {
    const [alex, sam] = await registerUsers(node.url, 2);
    await ok(call(node, 'POST', `/users/${sam.user.id}/follow`, alex), 204);
    await ok(call(node, 'POST', `/users/${sam.user.id}/follow`, alex), 204);
    const notification = await theOne(sam, 'new_follower');
    expect(notification).toMatchObject({
      title: `${alex.user.displayName} followed you`,
      url: '/app/feed',
      actor: { id: alex.user.id, displayName: alex.user.displayName },
      readAt: null,
    });
    // Unfollow and follow again: not news twice.
    await ok(call(node, 'DELETE', `/users/${sam.user.id}/follow`, alex), 204);
    await ok(call(node, 'POST', `/users/${sam.user.id}/follow`, alex), 204);
    await emit('user.followed', { followerId: alex.user.id, followeeId: sam.user.id });
    expect(await ofKind(sam, 'new_follower')).toHaveLength(1);
    expect(await listOf(alex)).toEqual([]);
  });

  it('a paid order and then its refund tell the buyer, once each', async () => {
    const { course } = await pricedCourse(node);
    const [buyer] = await registerUsers(node.url, 1);
    const placed = await ok(checkoutAs(node, buyer, { productId: course.id, country: 'de' }), 201);
    const paid = await payTestOrder(node, buyer, placed.order.id, 'pay');
    expect(paid.status).toBe('paid');
    const notification = await theOne(buyer, 'order_paid');
    expect(notification).toMatchObject({ title: `Your order “${paid.title}” is paid`, url: `/app/orders/${paid.id}` });
    await emit('order.updated', { order: paid, buyerId: buyer.user.id, sellerId: paid.seller.id });
    expect(await ofKind(buyer, 'order_paid')).toHaveLength(1);

    const refunded: OrderDto = { ...paid, status: 'refunded', refundedMinor: paid.totalMinor };
    await emit('order.updated', { order: refunded, buyerId: buyer.user.id, sellerId: paid.seller.id });
    await emit('order.updated', { order: refunded, buyerId: buyer.user.id, sellerId: paid.seller.id });
    expect(await theOne(buyer, 'order_refunded')).toMatchObject({ title: `Your order “${paid.title}” was refunded`, url: `/app/orders/${paid.id}` });
    // A failed or expired order is not a notification.
    await emit('order.updated', { order: { ...paid, id: crypto.randomUUID(), status: 'failed' }, buyerId: buyer.user.id, sellerId: paid.seller.id });
    expect(await listOf(buyer)).toHaveLength(2);
  });

  it('grading an assignment tells the learner, and the certificate it earns arrives once (durably)', async () => {
    const world = await seedWorld(node, { people: { owner: 'owner', learner: 'member' } });
    const course = await seedCourse(node, {
      owner: world.owner,
      communityId: world.communityId,
      title: 'Essay writing',
      modules: [{ essay: { kind: 'assignment', title: 'First essay', passPercent: 50 } }],
    });
    await enrol(node, course.courseId, world.learner);
    const heard: DomainEvents['submission.graded'][] = [];
    const stop = node.node.deps.events.on('submission.graded', (event) => void heard.push(event));
    const { submission } = await ok(
      call<{ submission: { id: string } }>(node, 'POST', `/lessons/${course.lessons.essay}/submissions`, world.learner, { text: 'My essay.' }),
      201,
    );
    await ok(call(node, 'POST', `/submissions/${submission.id}/grade`, world.owner, { scorePercent: 80, feedback: 'Well argued.' }));
    stop();
    expect(heard).toHaveLength(1);

    const graded = await theOne(world.learner, 'assignment_graded');
    expect(graded).toMatchObject({
      title: 'Your assignment “First essay” was graded: 80% (passed)',
      body: 'Well argued.',
      url: `/app/courses/${course.courseId}/lessons/${course.lessons.essay}`,
      communityId: world.communityId,
    });
    const certificate = await theOne(world.learner, 'certificate_issued');
    const [stored] = await dbOf(node).selectFrom('certificates').select('id').where('user_id', '=', world.learner.user.id).execute();
    expect(certificate).toMatchObject({ title: 'You earned a certificate for “Essay writing”', url: `/certificates/${stored!.id}` });

    // Heard again (a retried job, a repeated emit): nothing new.
    await emit('submission.graded', heard[0]!);
    expect(await ofKind(world.learner, 'assignment_graded')).toHaveLength(1);
    expect(await ofKind(world.learner, 'certificate_issued')).toHaveLength(1);
  });

  it('a seat freed in a full class promotes the waitlisted learner, who hears it once', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 2);
    const [first, second] = learners as [TestUser, TestUser];
    const classroom = await scheduleClassroom(node, host, communityId, { title: 'Algebra night', capacity: 1 });
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, first), 201);
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, second), 201);
    await ok(call(node, 'DELETE', `/classrooms/${classroom.id}/register`, first));

    const notification = await theOne(second, 'waitlist_promoted');
    expect(notification).toMatchObject({
      title: 'A seat opened up: you are registered for “Algebra night”',
      url: `/app/c/${communityId}/classes/${classroom.id}`,
      communityId,
    });
    await emit('classroom.registrations_promoted', { classroomId: classroom.id, title: 'Algebra night', userIds: [second.user.id] });
    expect(await ofKind(second, 'waitlist_promoted')).toHaveLength(1);
    expect(await ofKind(first, 'waitlist_promoted')).toHaveLength(0);
  });

  it('a warning tells the member and the reporter hears their report was acted on; a timeout tells the member', async () => {
    const world = await moderationWorld(node);
    const { caseId, person } = await reportedPerson(node, world);
    await ok(call(node, 'POST', `/moderation/cases/${caseId}/actions`, world.moderator, { action: 'warn', reason: 'Be kind to others.' }));

    const warned = await theOne(person, 'moderation_warned');
    expect(warned).toMatchObject({ body: 'Be kind to others.', url: `/app/c/${world.communityId}`, communityId: world.communityId });
    expect(warned.title).toMatch(/^A moderator of .+ warned you$/);
    const resolved = await theOne(world.member, 'report_resolved');
    expect(resolved).toMatchObject({ title: 'Moderators reviewed your report and took action', url: `/app/c/${world.communityId}` });
    // The reported person hears of the warning, not of the report.
    expect(await ofKind(person, 'report_resolved')).toHaveLength(0);

    // The same events again: nothing new.
    await emit('member.warned', { communityId: world.communityId, userId: person.user.id, reason: 'Be kind to others.' });
    const { case: kase } = await ok(call<{ case: CaseDto }>(node, 'GET', `/moderation/cases/${caseId}`, world.moderator));
    expect(kase.status).toBe('resolved');
    await emit('moderation_case.updated', { case: kase });
    expect(await ofKind(person, 'moderation_warned')).toHaveLength(1);
    expect(await ofKind(world.member, 'report_resolved')).toHaveLength(1);

    const timeout = await reportedPerson(node, world);
    await ok(call(node, 'POST', `/moderation/cases/${timeout.caseId}/actions`, world.moderator, { action: 'timeout', reason: 'Cool down.', minutes: 60 }));
    const timedOut = await theOne(timeout.person, 'moderation_timed_out');
    expect(timedOut).toMatchObject({ body: 'Cool down.', url: `/app/c/${world.communityId}` });
    expect(timedOut.title).toMatch(/timed you out until \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  });
});
