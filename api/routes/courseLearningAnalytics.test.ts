import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CourseAnalyticsDto } from '../../contracts/courseLearning.ts';
import { manualClock } from '../../domain/shared/time.ts';
import { jsonb } from '../../orm/db.ts';
import { seedWorld } from '../../test/communities.ts';
import { call, ok, type TestUser } from '../../test/factories.ts';
import { enrol, question, seedCourse } from '../../test/learningFactories.ts';
import { dbOf, startNode, statementsDuring, type RunningNode } from '../../test/nodes.ts';

const NOW = new Date('2031-05-20T12:00:00.000Z');
const clock = manualClock(NOW);
let node: RunningNode;
beforeAll(async () => {
  node = await startNode({ clock });
});
afterAll(async () => node?.close());

const daysAgo = (days: number, hours = 0) => new Date(NOW.getTime() - days * 86_400_000 - hours * 3_600_000);

describe('course analytics', () => {
  let w: Awaited<ReturnType<typeof seed>>;

  async function seed() {
    const people = await seedWorld(node, { people: { teacher: 'member', a: 'member', b: 'member', c: 'member', d: 'member', e: 'member' } });
    const course = await seedCourse(node, {
      owner: people.teacher,
      communityId: people.communityId,
      modules: [{ intro: { kind: 'text' }, quiz: { kind: 'quiz', questions: [question.single('q', 0)] } }, { final: { kind: 'text' } }],
    });
    const { a, b, c, d, e } = people;
    // Enrolled today (a), yesterday (b, c; c late in the UTC day), 29 days ago (d: the window's first day), 30 days ago (e: outside it).
    await enrol(node, course.courseId, a, daysAgo(0, 1));
    await enrol(node, course.courseId, b, daysAgo(1));
    await enrol(node, course.courseId, c, new Date('2031-05-19T23:59:00.000Z'));
    await enrol(node, course.courseId, d, daysAgo(29, 11));
    await enrol(node, course.courseId, e, daysAgo(30));
    const q = dbOf(node);
    const done = (user: TestUser, lesson: string, hoursAgo: number) => ({
      lesson_id: lesson,
      user_id: user.user.id,
      course_id: course.courseId,
      completed_at: new Date(NOW.getTime() - hoursAgo * 3_600_000),
    });
    const { intro, quiz, final } = course.lessons;
    await q
      .insertInto('lesson_progress')
      .values([done(a, intro, 5), done(a, quiz, 4), done(b, intro, 3), done(c, intro, 9), done(c, quiz, 8), done(c, final, 7), done(e, intro, 100)])
      .execute();
    await q.updateTable('course_enrolments').set({ completed_at: daysAgo(0, 7) }).where('course_id', '=', course.courseId).where('user_id', '=', c.user.id).execute();
    const attempt = (user: TestUser, attemptNo: number, score: number) => ({
      id: crypto.randomUUID(),
      lesson_id: quiz,
      course_id: course.courseId,
      user_id: user.user.id,
      attempt_no: attemptNo,
      answers: jsonb([]),
      results: jsonb([]),
      score_percent: score,
      passed: score >= 70,
    });
    await q.insertInto('quiz_attempts').values([attempt(a, 1, 40), attempt(a, 2, 100), attempt(b, 1, 50), attempt(c, 1, 100)]).execute();
    return { ...people, ...course };
  }

  beforeAll(async () => {
    w = await seed();
  });

  it('counts enrolments per day, the funnel, quiz results and where learners stopped', async () => {
    const analytics = await ok(call<CourseAnalyticsDto>(node, 'GET', `/courses/${w.courseId}/analytics`, w.teacher));
    const { intro, quiz, final } = w.lessons;
    expect(analytics.courseId).toBe(w.courseId);
    expect(analytics.enrolled).toBe(5);
    expect(analytics.completed).toBe(1);

    expect(analytics.enrolmentsPerDay).toHaveLength(30);
    expect(analytics.enrolmentsPerDay[0]).toEqual({ day: '2031-04-21', count: 1 });
    expect(analytics.enrolmentsPerDay.at(-2)).toEqual({ day: '2031-05-19', count: 2 });
    expect(analytics.enrolmentsPerDay.at(-1)).toEqual({ day: '2031-05-20', count: 1 });
    expect(analytics.enrolmentsPerDay.reduce((sum, d) => sum + d.count, 0)).toBe(4);

    expect(analytics.lessons).toEqual([
      { lessonId: intro, title: 'intro', completed: 4, completionRate: 80 },
      { lessonId: quiz, title: 'quiz', completed: 2, completionRate: 40 },
      { lessonId: final, title: 'final', completed: 1, completionRate: 20 },
    ]);
    expect(analytics.quizzes).toEqual([{ lessonId: quiz, title: 'quiz', attempts: 4, learners: 3, averageScore: 72.5, passRate: 66.7 }]);
    // b and e stopped after the intro, a after the quiz; c completed the course, d completed nothing.
    expect(analytics.dropOff).toEqual([
      { lessonId: intro, title: 'intro', learnersStoppedHere: 2 },
      { lessonId: quiz, title: 'quiz', learnersStoppedHere: 1 },
      { lessonId: final, title: 'final', learnersStoppedHere: 0 },
    ]);
  });

  it('runs in a few set-based statements, not one per lesson or learner', async () => {
    const statements = await statementsDuring(node, () => ok(call(node, 'GET', `/courses/${w.courseId}/analytics`, w.teacher)));
    // The access check, totals, enrolments per day, and one statement for every lesson's figures.
    expect(statements.filter((s) => /^\s*(with|select)/i.test(s))).toHaveLength(4);
  });

  it('is for the course’s authors only', async () => {
    expect((await call(node, 'GET', `/courses/${w.courseId}/analytics`, w.a)).status).toBe(403);
    expect((await call(node, 'GET', `/courses/${w.courseId}/analytics`, null)).status).toBe(401);
    expect((await call(node, 'GET', `/courses/${crypto.randomUUID()}/analytics`, w.teacher)).status).toBe(404);
  });

  it('an empty course has zeros, not divisions by zero', async () => {
    const course = await seedCourse(node, { owner: w.teacher, communityId: w.communityId, modules: [{ only: { kind: 'quiz', questions: [] } }] });
    const analytics = await ok(call<CourseAnalyticsDto>(node, 'GET', `/courses/${course.courseId}/analytics`, w.teacher));
    expect(analytics).toMatchObject({ enrolled: 0, completed: 0 });
    expect(analytics.lessons).toEqual([{ lessonId: course.lessons.only, title: 'only', completed: 0, completionRate: 0 }]);
    expect(analytics.quizzes).toEqual([{ lessonId: course.lessons.only, title: 'only', attempts: 0, learners: 0, averageScore: null, passRate: 0 }]);
  });
});
