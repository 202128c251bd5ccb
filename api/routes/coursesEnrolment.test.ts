import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrolmentEnvelope, MyCourseList } from '../../contracts/courses.ts';
import { channelMemberIds, seedCommunity } from '../../test/communities.ts';
import { enrol, publishedCourse } from '../../test/courseFactories.ts';
import { call, ok, registerUsers } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node?.close();
});

describe('enrolment', () => {
  it('a free course: enrolled with an entitlement and the course channel; a second call is 200 with the same enrolment', async () => {
    const { course } = await publishedCourse(node);
    const [learner] = await registerUsers(node.url, 1);
    const first = await call<EnrolmentEnvelope>(node, 'POST', `/courses/${course.id}/enrol`, learner);
    expect(first.status).toBe(201);
    expect(first.body.course).toMatchObject({ channelId: course.channelId, me: { enrolled: true, canLearn: true } });
    const second = await call<EnrolmentEnvelope>(node, 'POST', `/courses/${course.id}/enrol`, learner);
    expect(second.status).toBe(200);
    expect(second.body.enrolment).toEqual(first.body.enrolment);
    const entitlements = await dbOf(node).selectFrom('entitlements').select(['source', 'revoked_at']).where('resource_id', '=', course.id).execute();
    expect(entitlements).toEqual([{ source: 'free', revoked_at: null }]);
    expect(await channelMemberIds(node, course.channelId!)).toContain(learner.user.id);
  });

  it('concurrent enrolments of one learner make one enrolment and one entitlement', async () => {
    const { course } = await publishedCourse(node);
    const [learner] = await registerUsers(node.url, 1);
    const results = await Promise.all(Array.from({ length: 6 }, () => call(node, 'POST', `/courses/${course.id}/enrol`, learner)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    const q = dbOf(node);
    expect(await q.selectFrom('course_enrolments').select('user_id').where('course_id', '=', course.id).execute()).toHaveLength(1);
    expect(await q.selectFrom('entitlements').select('id').where('resource_id', '=', course.id).execute()).toHaveLength(1);
  });

  it('a priced course must be bought first (409); staff may grant it', async () => {
    const { course, author } = await publishedCourse(node, { course: { priceMinor: 4900, currency: 'eur' } });
    expect(course).toMatchObject({ priceMinor: 4900, currency: 'EUR' });
    const [learner, stranger] = await registerUsers(node.url, 2);
    const refused = await call(node, 'POST', `/courses/${course.id}/enrol`, learner);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('Buy it first');
    expect((await call(node, 'POST', `/courses/${course.id}/enrolments`, stranger, { userId: learner.user.id })).status).toBe(403);

    const granted = await call<EnrolmentEnvelope>(node, 'POST', `/courses/${course.id}/enrolments`, author, { userId: learner.user.id });
    expect(granted.status).toBe(201);
    expect(granted.body.enrolment.user.id).toBe(learner.user.id);
    expect((await call(node, 'POST', `/courses/${course.id}/enrolments`, author, { userId: learner.user.id })).status).toBe(200);
    const entitlement = await dbOf(node)
      .selectFrom('entitlements')
      .select(['source', 'granted_by_id'])
      .where('resource_id', '=', course.id)
      .executeTakeFirstOrThrow();
    expect(entitlement).toEqual({ source: 'grant', granted_by_id: author.user.id });
    // Entitled now: enrolling is allowed and changes nothing.
    expect((await call(node, 'POST', `/courses/${course.id}/enrol`, learner)).status).toBe(200);
    expect((await call(node, 'POST', `/courses/${course.id}/enrolments`, author, { userId: author.user.id })).status).toBe(409);
  });

  it('a private community\'s course is granted to its members only', async () => {
    const [owner, member, outsider] = await registerUsers(node.url, 3);
    const { communityId } = await seedCommunity(node, {
      members: [
        { userId: owner.user.id, role: 'owner' },
        { userId: member.user.id },
      ],
      channels: [],
      visibility: 'private',
    });
    const { course } = await publishedCourse(node, { author: owner, course: { communityId } });
    expect((await call(node, 'POST', `/courses/${course.id}/enrolments`, owner, { userId: outsider.user.id })).status).toBe(404);
    expect((await call(node, 'POST', `/courses/${course.id}/enrolments`, owner, { userId: member.user.id })).status).toBe(201);
    expect((await call(node, 'POST', `/courses/${course.id}/enrol`, outsider)).status).toBe(404);
  });

  it('my courses: most recently active first, with percent and the lesson to continue with', async () => {
    const [learner] = await registerUsers(node.url, 1);
    const one = await publishedCourse(node, { lessons: 2, course: { title: 'First course' } });
    const two = await publishedCourse(node, { lessons: 3, course: { title: 'Second course' } });
    await enrol(node, learner, one.course.id);
    await enrol(node, learner, two.course.id);
    await ok(call(node, 'POST', `/lessons/${one.lessons[0]!.id}/complete`, learner));
    const mine = await ok(call<MyCourseList>(node, 'GET', '/me/courses', learner));
    expect(mine.data.map((m) => [m.course.title, m.percent, m.continueLesson?.title])).toEqual([
      ['First course', 50, 'Lesson 2'],
      ['Second course', 0, 'Lesson 1'],
    ]);
    await ok(call(node, 'POST', `/lessons/${one.lessons[1]!.id}/complete`, learner));
    await ok(call(node, 'PUT', `/lessons/${two.lessons[1]!.id}/position`, learner, { seconds: 30 }));
    const after = await ok(call<MyCourseList>(node, 'GET', '/me/courses', learner));
    expect(after.data.map((m) => [m.course.title, m.percent, m.continueLesson?.title ?? null])).toEqual([
      ['Second course', 0, 'Lesson 2'],
      ['First course', 100, null],
    ]);
  });
});
