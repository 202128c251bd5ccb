import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptEnvelope, AttemptList } from '../../contracts/courseLearning.ts';
import { loadProgress } from '../../domain/courses/progress.ts';
import { addToCommunity, seedWorld } from '../../test/communities.ts';
import { call, ok, registerUser, type TestUser } from '../../test/factories.ts';
import { enrol, question, seedCourse } from '../../test/learningFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

const attempt = (lessonId: string, user: TestUser, answers: unknown[]) => call<AttemptEnvelope>(node, 'POST', `/lessons/${lessonId}/attempts`, user, { answers });
const right = [
  { questionId: 'capital', choice: [1] },
  { questionId: 'primes', choice: [0, 2] },
  { questionId: 'river', text: '  the NILE ' },
];
const wrong = [{ questionId: 'capital', choice: [0] }];

async function quizCourse(lesson: { maxAttempts?: number | null; passPercent?: number | null; releaseDays?: number } = {}) {
  const world = await seedWorld(node, { people: { teacher: 'member', learner: 'member' } });
  const course = await seedCourse(node, {
    owner: world.teacher,
    communityId: world.communityId,
    modules: [
      {
        intro: { kind: 'text' },
        quiz: {
          kind: 'quiz',
          questions: [question.single('capital', 1), question.multiple('primes', [0, 2]), question.short('river', ['Nile', 'the Nile'])],
          ...lesson,
        },
      },
    ],
  });
  await enrol(node, course.courseId, world.learner);
  return { ...world, ...course };
}

describe('quiz attempts', () => {
  it('scores an attempt, says which answers were wrong, and keeps the keys while attempts are left', async () => {
    const { learner, lessons } = await quizCourse({ maxAttempts: 3 });
    const before = await ok(call<AttemptList>(node, 'GET', `/lessons/${lessons.quiz}/attempts`, learner));
    expect(before).toEqual({ data: [], passPercent: 70, attemptsLeft: 3, passed: false, answersRevealed: false });

    const res = await attempt(lessons.quiz, learner, [{ questionId: 'capital', choice: [1] }, { questionId: 'river', text: 'Amazon' }]);
    const body = await ok(res, 201);
    expect(body).toMatchObject({ passPercent: 70, attemptsLeft: 2, passed: false, answersRevealed: false });
    expect(body.attempt).toMatchObject({ attemptNo: 1, scorePercent: 33, passed: false });
    expect(body.attempt.results).toEqual([
      { questionId: 'capital', correct: true, correctAnswer: null },
      { questionId: 'primes', correct: false, correctAnswer: null },
      { questionId: 'river', correct: false, correctAnswer: null },
    ]);
    // Nothing of the key anywhere in what a learner received: no "Nile", no [0, 2].
    expect(JSON.stringify(body)).not.toMatch(/nile|"choice"|accepted/i);
    const listed = await ok(call<AttemptList>(node, 'GET', `/lessons/${lessons.quiz}/attempts`, learner));
    expect(JSON.stringify(listed)).not.toMatch(/nile|"choice"|accepted/i);
    expect(listed.data.map((a) => a.attemptNo)).toEqual([1]);
  });

  it('reveals the right answers once no attempts are left, on every attempt', async () => {
    const { learner, lessons } = await quizCourse({ maxAttempts: 2 });
    await ok(attempt(lessons.quiz, learner, wrong), 201);
    const last = await ok(attempt(lessons.quiz, learner, wrong), 201);
    expect(last).toMatchObject({ attemptsLeft: 0, passed: false, answersRevealed: true });
    expect(last.attempt.results).toEqual([
      { questionId: 'capital', correct: false, correctAnswer: { choice: [1], accepted: [] } },
      { questionId: 'primes', correct: false, correctAnswer: { choice: [0, 2], accepted: [] } },
      { questionId: 'river', correct: false, correctAnswer: { choice: [], accepted: ['Nile', 'the Nile'] } },
    ]);
    const listed = await ok(call<AttemptList>(node, 'GET', `/lessons/${lessons.quiz}/attempts`, learner));
    expect(listed.data.every((a) => a.results.every((r) => r.correctAnswer !== null))).toBe(true);

    const refused = await attempt(lessons.quiz, learner, right);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'conflict', details: { attemptsLeft: 0 } } });
  });

  it('never lets concurrent submissions exceed the limit: 5 at once at a 2-attempt quiz store exactly 2', async () => {
    const { learner, lessons } = await quizCourse({ maxAttempts: 2 });
    const results = await Promise.all(Array.from({ length: 5 }, () => attempt(lessons.quiz, learner, wrong)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 409, 409, 409]);
    const stored = await dbOf(node)
      .selectFrom('quiz_attempts')
      .select('attempt_no')
      .where('lesson_id', '=', lessons.quiz)
      .where('user_id', '=', learner.user.id)
      .orderBy('attempt_no')
      .execute();
    expect(stored.map((r) => r.attempt_no)).toEqual([1, 2]);
  });

  it('a pass completes the lesson, moves progress and reveals the answers; no attempts after it', async () => {
    const { learner, lessons, courseId } = await quizCourse({ maxAttempts: null });
    expect((await loadProgress(dbOf(node), courseId, learner.user.id)).percent).toBe(0);
    await ok(attempt(lessons.quiz, learner, wrong), 201);
    const passed = await ok(attempt(lessons.quiz, learner, right), 201);
    expect(passed).toMatchObject({ attemptsLeft: null, passed: true, answersRevealed: true, attempt: { attemptNo: 2, scorePercent: 100, passed: true } });
    expect(passed.attempt.results.every((r) => r.correct && r.correctAnswer !== null)).toBe(true);
    const progress = await loadProgress(dbOf(node), courseId, learner.user.id);
    expect(progress).toMatchObject({ completedLessonIds: [lessons.quiz], percent: 50, lastLessonId: lessons.quiz });
    expect((await attempt(lessons.quiz, learner, right)).status).toBe(409);
  });

  it('a fail leaves the lesson incomplete; the pass mark is the lesson’s own', async () => {
    const { learner, lessons, courseId } = await quizCourse({ passPercent: 60 });
    // 2 of 3 = 66 %: a pass at 60, a fail at the default 70.
    const twoOfThree = await ok(attempt(lessons.quiz, learner, right.slice(0, 2)), 201);
    expect(twoOfThree).toMatchObject({ passPercent: 60, passed: true, attempt: { scorePercent: 66 } });
    const other = await quizCourse();
    const failed = await ok(attempt(other.lessons.quiz, other.learner, right.slice(0, 2)), 201);
    expect(failed).toMatchObject({ passPercent: 70, passed: false });
    expect((await loadProgress(dbOf(node), other.courseId, other.learner.user.id)).completedLessonIds).toEqual([]);
    expect((await loadProgress(dbOf(node), courseId, learner.user.id)).completedLessonIds).toEqual([lessons.quiz]);
  });

  it('is for enrolled learners, on open quiz lessons only', async () => {
    const { learner, teacher, lessons, communityId } = await quizCourse();
    const other = await registerUser(node.url);
    await addToCommunity(node, communityId, other);
    // Not enrolled (no entitlement), an author, a signed-out visitor.
    expect((await attempt(lessons.quiz, other, right)).status).toBe(403);
    expect((await call(node, 'GET', `/lessons/${lessons.quiz}/attempts`, other)).status).toBe(403);
    expect((await attempt(lessons.quiz, teacher, right)).status).toBe(403);
    expect((await call(node, 'POST', `/lessons/${lessons.quiz}/attempts`, null, { answers: right })).status).toBe(401);
    // Not a quiz, no such lesson, answers to unknown questions, one question answered twice.
    expect((await attempt(lessons.intro, learner, right)).status).toBe(404);
    expect((await attempt(crypto.randomUUID(), learner, right)).status).toBe(404);
    expect((await attempt(lessons.quiz, learner, [{ questionId: 'nope', choice: [1] }])).status).toBe(400);
    expect((await attempt(lessons.quiz, learner, [wrong[0], wrong[0]])).status).toBe(400);

    const dripped = await quizCourse({ releaseDays: 7 });
    const locked = await attempt(dripped.lessons.quiz, dripped.learner, right);
    expect(locked.status).toBe(403);
    expect(locked.body).toMatchObject({ error: { details: { availableAt: expect.any(String) } } });
    expect(JSON.stringify(locked.body)).not.toMatch(/nile/i);
  });
});
