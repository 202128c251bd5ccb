import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompletionDto, CourseDetailDto, LessonDto, PositionDto, ProgressDto } from '../../contracts/courses.ts';
import { manualClock } from '../../domain/shared/time.ts';
import { withPlatformRole } from '../../test/classroomFactories.ts';
import { seedCommunity } from '../../test/communities.ts';
import { addLesson, addModule, createCourse, enrol, publish, publishedCourse, registerInstructor, seedAsset } from '../../test/courseFactories.ts';
import { call, connectSocket, nextEvent, ok, registerUsers, type ClientSocket, type TestUser } from '../../test/factories.ts';
import { startCluster, startNode, type RunningNode } from '../../test/nodes.ts';

const DAY = 86_400_000;
const clock = manualClock();
let node: RunningNode;
beforeAll(async () => {
  node = await startNode({ clock });
});
afterAll(async () => {
  await node?.close();
});

type Opened = { lesson: LessonDto };

describe('who may open a lesson', () => {
  const WHO = ['anonymous', 'outsider', 'member', 'enrolled', 'otherInstructor', 'instructor', 'communityAdmin', 'platformAdmin'] as const;
  type Who = (typeof WHO)[number];
  const users = {} as Record<Exclude<Who, 'anonymous'>, TestUser>;
  let communities: Record<'public' | 'private', string>;

  beforeAll(async () => {
    const [owner, outsider, member, enrolled, other, instructor, admin, platformAdmin] = await registerUsers(node.url, 8);
    Object.assign(users, {
      outsider,
      member,
      enrolled,
      otherInstructor: await withPlatformRole(node, other, 'instructor'),
      instructor,
      communityAdmin: admin,
      platformAdmin: await withPlatformRole(node, platformAdmin, 'admin'),
    });
    const members = [
      { userId: owner!.user.id, role: 'owner' as const },
      { userId: member.user.id },
      { userId: enrolled.user.id },
      { userId: instructor.user.id },
      { userId: admin.user.id, role: 'admin' as const },
    ];
    communities = {
      public: (await seedCommunity(node, { members, channels: [] })).communityId,
      private: (await seedCommunity(node, { members, channels: [], visibility: 'private' })).communityId,
    };
    Object.assign(users, { owner });
  });

  const matrix = async (visibility: 'public' | 'private') => {
    const owner = (users as unknown as Record<'owner', TestUser>).owner;
    const course = await createCourse(node, owner, { communityId: communities[visibility] });
    const module = await addModule(node, owner, course.id);
    const locked = await addLesson(node, owner, module.id, { title: 'Members only', body: 'Only for **learners**.' });
    const preview = await addLesson(node, owner, module.id, { title: 'Free preview', preview: true });
    await publish(node, owner, course.id);
    await ok(call(node, 'POST', `/courses/${course.id}/instructors`, owner, { userId: users.instructor.user.id }));
    await enrol(node, users.enrolled, course.id);
    const statuses = { locked: {} as Record<Who, number>, preview: {} as Record<Who, number> };
    for (const who of WHO) {
      const user = who === 'anonymous' ? null : users[who];
      statuses.locked[who] = (await call(node, 'GET', `/lessons/${locked.id}`, user)).status;
      statuses.preview[who] = (await call(node, 'GET', `/lessons/${preview.id}`, user)).status;
    }
    return statuses;
  };

  it('a public community\'s course: entitled learners and authors open every lesson; anyone opens previews', async () => {
    expect(await matrix('public')).toEqual({
      locked: {
        anonymous: 401,
        outsider: 403,
        member: 403,
        enrolled: 200,
        otherInstructor: 403,
        instructor: 200,
        communityAdmin: 200,
        platformAdmin: 200,
      },
      preview: {
        anonymous: 200,
        outsider: 200,
        member: 200,
        enrolled: 200,
        otherInstructor: 200,
        instructor: 200,
        communityAdmin: 200,
        platformAdmin: 200,
      },
    });
  });

  it('a private community\'s course does not exist outside it', async () => {
    const outside = { anonymous: 404, outsider: 404, otherInstructor: 404 };
    expect(await matrix('private')).toEqual({
      locked: { ...outside, member: 403, enrolled: 200, instructor: 200, communityAdmin: 200, platformAdmin: 200 },
      preview: { ...outside, member: 200, enrolled: 200, instructor: 200, communityAdmin: 200, platformAdmin: 200 },
    });
  });

  it('an unknown lesson is 404 for everyone', async () => {
    expect((await call(node, 'GET', `/lessons/${crypto.randomUUID()}`, users.platformAdmin)).status).toBe(404);
  });
});

describe('a lesson as a learner opens it', () => {
  it('rendered HTML, a signed asset URL, and a quiz without its answer keys (authors get them with ?edit=1)', async () => {
    const author = await registerInstructor(node);
    const [learner] = await registerUsers(node.url, 1);
    const course = await createCourse(node, author);
    const module = await addModule(node, author, course.id);
    const video = await seedAsset(node, author, 'video');
    const watch = await addLesson(node, author, module.id, {
      kind: 'video',
      assetId: video,
      body: 'Watch <script>alert(1)</script> **this**',
      durationMinutes: 7,
    });
    const quiz = await addLesson(node, author, module.id, {
      kind: 'quiz',
      body: 'Answer all.',
      passPercent: 70,
      maxAttempts: 3,
      quiz: {
        questions: [
          { kind: 'single', prompt: 'Which is largest?', options: ['one', 'two', 'three'], correct: [2] },
          { kind: 'multiple', prompt: 'Which are even?', options: ['2', '3', '4'], correct: [0, 2] },
          { kind: 'short', prompt: 'Name the middle value', accepted: ['MEDIAN-ANSWER'] },
        ],
      },
    });
    await publish(node, author, course.id);
    await enrol(node, learner, course.id);

    const opened = await ok(call<Opened>(node, 'GET', `/lessons/${watch.id}`, learner));
    expect(opened.lesson).toMatchObject({ kind: 'video', durationMinutes: 7, completed: false, positionSeconds: 0, quiz: null, classroom: null });
    expect(opened.lesson.html).toContain('<strong>this</strong>');
    expect(opened.lesson.html).not.toContain('<script');
    expect(opened.lesson.asset).toMatchObject({ id: video, kind: 'video', url: expect.stringContaining(video) });

    const taken = await ok(call<Opened>(node, 'GET', `/lessons/${quiz.id}`, learner));
    expect(taken.lesson.quiz).toEqual({
      questions: [
        { id: expect.any(String), kind: 'single', prompt: 'Which is largest?', options: ['one', 'two', 'three'] },
        { id: expect.any(String), kind: 'multiple', prompt: 'Which are even?', options: ['2', '3', '4'] },
        { id: expect.any(String), kind: 'short', prompt: 'Name the middle value', options: [] },
      ],
    });
    expect(taken.lesson).toMatchObject({ passPercent: 70, maxAttempts: 3 });
    const text = JSON.stringify(taken);
    for (const key of ['MEDIAN-ANSWER', '"correct"', '"accepted"']) expect(text).not.toContain(key);
    const outline = JSON.stringify(await ok(call<CourseDetailDto>(node, 'GET', `/courses/${course.id}`, learner)));
    for (const key of ['MEDIAN-ANSWER', 'Which is largest?', 'Answer all.']) expect(outline).not.toContain(key);

    expect((await call(node, 'GET', `/lessons/${quiz.id}?edit=1`, learner)).status).toBe(403);
    const edit = await ok(call<{ authorLesson: { quiz: { questions: { correct: number[]; accepted: string[] }[] } } }>(node, 'GET', `/lessons/${quiz.id}?edit=1`, author));
    expect(edit.authorLesson.quiz.questions.map((q) => [q.correct, q.accepted])).toEqual([
      [[2], []],
      [[0, 2], []],
      [[], ['MEDIAN-ANSWER']],
    ]);
  });
});

describe('drip release on the domain clock', () => {
  it('afterEnrolment and onDate lessons are locked with their date, then open once the clock passes it', async () => {
    const author = await registerInstructor(node);
    const [learner] = await registerUsers(node.url, 1);
    const course = await createCourse(node, author);
    const module = await addModule(node, author, course.id);
    const first = await addLesson(node, author, module.id, { title: 'Day one' });
    const later = await addLesson(node, author, module.id, { title: 'Two days in', release: { type: 'afterEnrolment', days: 2 } });
    const onDate = new Date(clock.now().getTime() + 3 * DAY).toISOString();
    const dated = await addLesson(node, author, module.id, { title: 'Launch day', release: { type: 'onDate', at: onDate } });
    await publish(node, author, course.id);
    const enrolledAt = clock.now();
    await enrol(node, learner, course.id);
    const expectedLater = new Date(enrolledAt.getTime() + 2 * DAY).toISOString();

    const outline = async () =>
      (await ok(call<CourseDetailDto>(node, 'GET', `/courses/${course.id}`, learner))).modules[0]!.lessons.map((l) => [l.title, l.locked, l.availableAt]);
    expect(await outline()).toEqual([
      ['Day one', false, null],
      ['Two days in', true, expectedLater],
      ['Launch day', true, onDate],
    ]);
    expect((await call(node, 'GET', `/lessons/${first.id}`, learner)).status).toBe(200);
    const closed = await call(node, 'GET', `/lessons/${later.id}`, learner);
    expect(closed.status).toBe(403);
    expect(closed.body.error).toMatchObject({ code: 'forbidden', details: { availableAt: expectedLater } });
    expect((await call(node, 'POST', `/lessons/${later.id}/complete`, learner)).status).toBe(403);
    // Authors are never held back.
    expect((await call(node, 'GET', `/lessons/${dated.id}`, author)).status).toBe(200);

    clock.advance(2 * DAY);
    expect((await call(node, 'GET', `/lessons/${later.id}`, learner)).status).toBe(200);
    const stillClosed = await call(node, 'GET', `/lessons/${dated.id}`, learner);
    expect(stillClosed.status).toBe(403);
    expect(stillClosed.body.error.details.availableAt).toBe(onDate);

    clock.advance(DAY);
    expect((await call(node, 'GET', `/lessons/${dated.id}`, learner)).status).toBe(200);
    expect((await outline()).map(([, locked]) => locked)).toEqual([false, false, false]);
  });
});

describe('progress', () => {
  it('completing is idempotent, counts required lessons only, and refuses quizzes and assignments', async () => {
    const author = await registerInstructor(node);
    const [learner, bystander] = await registerUsers(node.url, 2);
    const course = await createCourse(node, author);
    const module = await addModule(node, author, course.id);
    const [a, b, c] = [
      await addLesson(node, author, module.id, { title: 'Lesson A' }),
      await addLesson(node, author, module.id, { title: 'Lesson B' }),
      await addLesson(node, author, module.id, { title: 'Lesson C' }),
    ];
    const extra = await addLesson(node, author, module.id, { title: 'Optional reading', required: false });
    const quiz = await addLesson(node, author, module.id, {
      kind: 'quiz',
      required: false,
      quiz: { questions: [{ kind: 'short', prompt: 'Q', accepted: ['a'] }] },
    });
    const assignment = await addLesson(node, author, module.id, { kind: 'assignment', required: false });
    await publish(node, author, course.id);
    expect((await call(node, 'POST', `/lessons/${a.id}/complete`, bystander)).status).toBe(403);
    await enrol(node, learner, course.id);

    const first = await ok(call<CompletionDto>(node, 'POST', `/lessons/${a.id}/complete`, learner));
    expect(first).toEqual({
      changed: true,
      progress: { courseId: course.id, completedLessonIds: [a.id], percent: 33, lastLessonId: a.id },
      certificateId: null,
    });
    const again = await ok(call<CompletionDto>(node, 'POST', `/lessons/${a.id}/complete`, learner));
    expect(again).toMatchObject({ changed: false, progress: { percent: 33 } });
    const optional = await ok(call<CompletionDto>(node, 'POST', `/lessons/${extra.id}/complete`, learner));
    expect(optional.progress).toMatchObject({ completedLessonIds: [a.id, extra.id], percent: 33 });
    for (const lesson of [quiz, assignment]) {
      const refused = await call(node, 'POST', `/lessons/${lesson.id}/complete`, learner);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('conflict');
    }
    await ok(call(node, 'POST', `/lessons/${b.id}/complete`, learner));
    const last = await ok(call<CompletionDto>(node, 'POST', `/lessons/${c.id}/complete`, learner));
    expect(last.progress.percent).toBe(100);
    // Every required lesson is done: the certificate is issued by this completion.
    expect(last.certificateId).toEqual(expect.any(String));
    expect(await ok(call<ProgressDto>(node, 'GET', `/courses/${course.id}/progress`, learner))).toEqual(last.progress);
    expect((await call(node, 'GET', `/courses/${course.id}/progress`, bystander)).status).toBe(403);
  });

  it('a video position is stored, shown with the lesson, and makes it the last lesson', async () => {
    const { course, lessons } = await publishedCourse(node, { lessons: 2 });
    const [learner] = await registerUsers(node.url, 1);
    await enrol(node, learner, course.id);
    const saved = await ok(call<PositionDto>(node, 'PUT', `/lessons/${lessons[1]!.id}/position`, learner, { seconds: 95 }));
    expect(saved).toMatchObject({ lessonId: lessons[1]!.id, seconds: 95, progress: { lastLessonId: lessons[1]!.id, percent: 0 } });
    await ok(call(node, 'PUT', `/lessons/${lessons[1]!.id}/position`, learner, { seconds: 120 }));
    expect((await ok(call<Opened>(node, 'GET', `/lessons/${lessons[1]!.id}`, learner))).lesson.positionSeconds).toBe(120);
    expect((await call(node, 'PUT', `/lessons/${lessons[1]!.id}/position`, learner, { seconds: -1 })).status).toBe(400);
  });
});

describe('the course discussion channel', () => {
  it('is readable by enrolled learners and instructors, not by members who are not enrolled', async () => {
    const [owner, learner, member] = await registerUsers(node.url, 3);
    const { communityId } = await seedCommunity(node, {
      members: [{ userId: owner.user.id, role: 'owner' }, { userId: learner.user.id }, { userId: member.user.id }],
      channels: [],
    });
    const { course } = await publishedCourse(node, { author: owner, course: { communityId } });
    await enrol(node, learner, course.id);
    const history = (user: TestUser) => call(node, 'GET', `/channels/${course.channelId}/messages`, user);
    expect((await history(owner)).status).toBe(200);
    expect((await history(learner)).status).toBe(200);
    expect((await history(member)).status).toBe(404);
    const seen = await ok(call<CourseDetailDto>(node, 'GET', `/courses/${course.id}`, member));
    expect(seen.course.channelId).toBeNull();
  });
});

describe('progress:updated reaches the learner on another node', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    cluster = await startCluster(2);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await cluster?.close();
  });

  it('completing on node A tells the learner\'s socket on node B', async () => {
    const [a, b] = cluster.nodes as [RunningNode, RunningNode];
    const { course, lessons } = await publishedCourse(a, { lessons: 2 });
    const [learner] = await registerUsers(a.url, 1);
    await enrol(a, learner, course.id);
    const socket = await connectSocket(b.url, learner.accessToken);
    sockets.push(socket);
    const event = nextEvent(socket, 'progress:updated', 5000);
    await ok(call(a, 'POST', `/lessons/${lessons[0]!.id}/complete`, learner));
    expect(await event).toEqual({ courseId: course.id, completedLessonIds: [lessons[0]!.id], percent: 50, lastLessonId: lessons[0]!.id });
  });
});
