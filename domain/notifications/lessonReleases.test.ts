import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationList } from '../../contracts/notifications.ts';
import { addToCommunity, seedWorld } from '../../test/communities.ts';
import { call, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { enrol, seedCourse } from '../../test/learningFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { manualClock } from '../shared/time.ts';
import { LESSON_RELEASE_EVERY_MS, lessonReleaseJob, notifyLessonReleases } from './lessonReleases.ts';

/*
 * Drip lessons: the periodic sweep tells each enrolled learner, once, that a lesson opened for them — days after their
 * enrolment, or on its date — on the domain clock, which the test moves. Never a lesson open at enrolment, never for
 * an unpublished course, a learner who lost the entitlement or a private community's course they can no longer see.
 */
describe('lesson released notifications', () => {
  const DAY = 86_400_000;
  const clock = manualClock(new Date(Math.floor(Date.now() / 60_000) * 60_000));
  const start = clock.now();
  const at = (ms: number) => new Date(start.getTime() + ms);
  let node: RunningNode;
  beforeAll(async () => {
    node = await startNode({ clock });
  });
  afterAll(async () => {
    await node?.close();
  });

  const releasedTo = (userId: string) =>
    dbOf(node).selectFrom('notifications').selectAll().where('user_id', '=', userId).where('kind', '=', 'lesson_released').orderBy('created_at').execute();
  const sweep = () => notifyLessonReleases(node.node.deps);

  it('tells each learner once when a drip lesson opens for them, never for lessons open at enrolment', async () => {
    clock.set(start);
    const { owner, communityId } = await seedWorld(node, { people: { owner: 'owner' } });
    const [early, late] = (await registerUsers(node.url, 2)) as [TestUser, TestUser];
    const course = await seedCourse(node, {
      owner,
      communityId,
      title: 'Algebra',
      modules: [{ welcome: {}, week1: { title: 'Week one', releaseDays: 1 }, week0: { releaseDays: 0 } }, { dated: { title: 'Exam prep' }, pastDate: {} }],
    });
    await dbOf(node).updateTable('course_lessons').set({ release_type: 'onDate', release_at: at(3 * DAY) }).where('id', '=', course.lessons.dated).execute();
    await dbOf(node).updateTable('course_lessons').set({ release_type: 'onDate', release_at: at(-DAY) }).where('id', '=', course.lessons.pastDate).execute();
    await enrol(node, course.courseId, early, start);

    expect(await sweep()).toBe(0);
    clock.set(at(DAY + 60_000));
    // Someone enrolling now has week one from today: tomorrow's news for them, not today's.
    await enrol(node, course.courseId, late, clock.now());
    // Twice at once, as two nodes or a retry would: one notification.
    await Promise.all([sweep(), sweep()]);
    const [week1] = await releasedTo(early.user.id);
    expect(week1).toMatchObject({
      title: '“Week one” is now open in Algebra',
      url: `/app/courses/${course.courseId}/lessons/${course.lessons.week1}`,
      subject_type: 'lesson',
      subject_id: course.lessons.week1,
      source_key: `lesson:${course.lessons.week1}:released`,
      community_id: communityId,
      read_at: null,
    });
    expect(await releasedTo(late.user.id)).toEqual([]);
    const list = await ok(call<NotificationList>(node, 'GET', '/notifications', early));
    expect(list.data.map((n) => n.title)).toEqual(['“Week one” is now open in Algebra']);

    // A day after the late enrolment, week one opens for them too.
    clock.set(at(2 * DAY + 2 * 60_000));
    await sweep();
    expect((await releasedTo(late.user.id)).map((n) => n.subject_id)).toEqual([course.lessons.week1]);
    expect(await releasedTo(early.user.id)).toHaveLength(1);

    clock.set(at(3 * DAY + 60_000));
    await lessonReleaseJob(node.node.deps)({}, { id: '0', attempts: 1, maxAttempts: 12 });
    expect((await releasedTo(early.user.id)).map((n) => n.title)).toEqual(['“Week one” is now open in Algebra', '“Exam prep” is now open in Algebra']);
    expect((await releasedTo(late.user.id)).map((n) => n.title)).toEqual(['“Week one” is now open in Algebra', '“Exam prep” is now open in Algebra']);
    await sweep();
    expect(await releasedTo(early.user.id)).toHaveLength(2);
    // The lessons open from the start (immediate, zero days, a date already past at enrolment) never notified.
    const subjects = (await releasedTo(early.user.id)).map((n) => n.subject_id);
    expect(subjects).not.toContain(course.lessons.welcome);
    expect(subjects).not.toContain(course.lessons.week0);
    expect(subjects).not.toContain(course.lessons.pastDate);

    // The sweep keeps one pending run of itself, about five minutes out on the queue's clock.
    const { rows } = await sql<{ run_at: Date }>`
      select j.run_at from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
      where t.identifier = 'notifications.lesson_releases'
    `.execute(dbOf(node));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.run_at.getTime() - Date.now()).toBeLessThanOrEqual(LESSON_RELEASE_EVERY_MS);
  });

  it('nothing for an unpublished course, a revoked entitlement, a private course the learner left, or a release long past', async () => {
    clock.set(start);
    const { owner, communityId } = await seedWorld(node, { people: { owner: 'owner' }, visibility: 'private' });
    const [stays, refunded, leaves, other] = (await registerUsers(node.url, 4)) as [TestUser, TestUser, TestUser, TestUser];
    for (const learner of [stays, refunded, leaves, other]) await addToCommunity(node, communityId, learner);
    const course = await seedCourse(node, { owner, communityId, title: 'Geometry', modules: [{ day2: { title: 'Angles', releaseDays: 2 } }] });
    const hidden = await seedCourse(node, { owner, communityId, title: 'Draft', modules: [{ day2: { releaseDays: 2 } }] });
    for (const learner of [stays, refunded, leaves]) await enrol(node, course.courseId, learner, start);
    await enrol(node, hidden.courseId, other, start);
    await dbOf(node).updateTable('courses').set({ status: 'unpublished' }).where('id', '=', hidden.courseId).execute();
    await dbOf(node).updateTable('entitlements').set({ revoked_at: start }).where('user_id', '=', refunded.user.id).execute();
    await dbOf(node).deleteFrom('community_members').where('community_id', '=', communityId).where('user_id', '=', leaves.user.id).execute();

    clock.set(at(2 * DAY + 60_000));
    await sweep();
    expect((await releasedTo(stays.user.id)).map((n) => n.title)).toEqual(['“Angles” is now open in Geometry']);
    for (const learner of [refunded, leaves, other]) expect(await releasedTo(learner.user.id)).toEqual([]);

    // A learner enrolled long ago, whose lesson opened days before the sweep's look-back: not announced now.
    const [old] = (await registerUsers(node.url, 1)) as [TestUser];
    await addToCommunity(node, communityId, old);
    await enrol(node, course.courseId, old, at(-10 * DAY));
    await sweep();
    expect(await releasedTo(old.user.id)).toEqual([]);
  });
});
