import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AuthorLessonDto,
  CourseDetailDto,
  CourseEnvelope,
  CoursePage,
  MyCourseList,
  OutlineEnvelope,
} from '../../contracts/courses.ts';
import { withPlatformRole } from '../../test/classroomFactories.ts';
import { channelMemberIds, seedCommunity } from '../../test/communities.ts';
import { addLesson, addModule, createCourse, enrol, publish, publishedCourse, registerInstructor, seedAsset } from '../../test/courseFactories.ts';
import { call, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node?.close();
});

const courseBody = (extra: Record<string, unknown> = {}) => ({ title: 'Intro to probability', level: 'beginner', ...extra });

describe('who may author a course', () => {
  it('outside a community: platform instructors and admins; plain users are refused', async () => {
    const [plain, instructorUser, adminUser] = await registerUsers(node.url, 3);
    const instructor = await withPlatformRole(node, instructorUser, 'instructor');
    const admin = await withPlatformRole(node, adminUser, 'admin');
    expect((await call(node, 'POST', '/courses', instructor, courseBody())).status).toBe(201);
    expect((await call(node, 'POST', '/courses', admin, courseBody())).status).toBe(201);
    const refused = await call(node, 'POST', '/courses', plain, courseBody());
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect((await call(node, 'POST', '/courses', null, courseBody())).status).toBe(401);
  });

  it('in a community: its owners and admins (and instructors who moderate it); members and outsiders are refused', async () => {
    const [owner, admin, moderator, member, outsider, instructorUser] = await registerUsers(node.url, 6);
    const instructorMod = await withPlatformRole(node, instructorUser, 'instructor');
    const { communityId } = await seedCommunity(node, {
      members: [
        { userId: owner.user.id, role: 'owner' },
        { userId: admin.user.id, role: 'admin' },
        { userId: moderator.user.id, role: 'moderator' },
        { userId: member.user.id },
        { userId: instructorMod.user.id, role: 'moderator' },
      ],
      channels: [],
      visibility: 'private',
    });
    const statuses: Record<string, number> = {};
    for (const [who, user] of Object.entries({ owner, admin, moderator, member, outsider, instructorMod })) {
      statuses[who] = (await call(node, 'POST', '/courses', user, courseBody({ communityId }))).status;
    }
    // A private community does not exist for outsiders.
    expect(statuses).toEqual({ owner: 201, admin: 201, moderator: 403, member: 403, outsider: 404, instructorMod: 201 });
  });

  it('creates a draft with its owner-instructor and a course discussion channel the creator belongs to', async () => {
    const author = await registerInstructor(node);
    const cover = await seedAsset(node, author, 'image');
    const course = await createCourse(node, author, {
      title: '  Bayesian thinking ',
      tags: ['Stats', 'stats', 'bayes'],
      priceMinor: 0,
      coverAssetId: cover,
    });
    expect(course).toMatchObject({
      title: 'Bayesian thinking',
      status: 'draft',
      communityId: null,
      tags: ['stats', 'bayes'],
      language: 'en',
      owner: { id: author.user.id },
      instructors: [{ user: { id: author.user.id }, role: 'owner' }],
      cover: { id: cover, kind: 'image', url: expect.any(String) },
      me: { author: true, instructorRole: 'owner', enrolled: false, canLearn: true },
      publishedAt: null,
    });
    const channel = await dbOf(node).selectFrom('channels').select(['kind', 'visibility']).where('id', '=', course.channelId!).executeTakeFirstOrThrow();
    expect(channel).toEqual({ kind: 'course', visibility: 'private' });
    expect(await channelMemberIds(node, course.channelId!)).toEqual([author.user.id]);
    const asset = await dbOf(node).selectFrom('assets').select('attached_at').where('id', '=', cover).executeTakeFirstOrThrow();
    expect(asset.attached_at).not.toBeNull();
  });

  it('refuses bad input, naming the fields; a priced course needs a currency', async () => {
    const author = await registerInstructor(node);
    const bad = await call(node, 'POST', '/courses', author, { title: 'x', level: 'expert' });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details.fields).sort()).toEqual(['level', 'title']);
    const priced = await call(node, 'POST', '/courses', author, courseBody({ priceMinor: 1000 }));
    expect(priced.status).toBe(400);
    expect(priced.body.error.details.fields).toHaveProperty('currency');
    const other = await registerInstructor(node);
    const foreignCover = await call(node, 'POST', '/courses', author, courseBody({ coverAssetId: await seedAsset(node, other, 'image') }));
    expect(foreignCover.status).toBe(400);
  });

  it('editing, publishing and outlines: the course instructors and the community admins; another instructor is refused', async () => {
    const [ownerUser, adminUser, memberUser] = await registerUsers(node.url, 3);
    const author = await withPlatformRole(node, ownerUser, 'instructor');
    const otherInstructor = await registerInstructor(node);
    const { communityId } = await seedCommunity(node, {
      members: [
        { userId: author.user.id, role: 'moderator' },
        { userId: adminUser.user.id, role: 'admin' },
        { userId: memberUser.user.id },
        { userId: otherInstructor.user.id },
      ],
      channels: [],
    });
    const course = await createCourse(node, author, { communityId });
    const patch = (user: TestUser, title: string) => call<CourseEnvelope>(node, 'PATCH', `/courses/${course.id}`, user, { title });
    expect((await patch(author, 'By the author')).status).toBe(200);
    expect((await patch(adminUser, 'By the community admin')).status).toBe(200);
    // A draft does not exist for people who do not author it.
    expect((await patch(memberUser, 'By a member')).status).toBe(404);
    expect((await patch(otherInstructor, 'By another instructor')).status).toBe(404);
    expect((await call(node, 'POST', `/courses/${course.id}/modules`, otherInstructor, { title: 'Mine' })).status).toBe(404);

    // Publishing needs a lesson.
    const early = await call(node, 'POST', `/courses/${course.id}/publish`, author);
    expect(early.status).toBe(409);
    const module = await addModule(node, author, course.id);
    await addLesson(node, author, module.id);
    const published = await publish(node, adminUser, course.id);
    expect(published).toMatchObject({ status: 'published', publishedAt: expect.any(String), title: 'By the community admin' });
    // Published: visible, still not theirs to edit.
    expect((await patch(memberUser, 'By a member')).status).toBe(403);
    expect((await patch(otherInstructor, 'By another instructor')).status).toBe(403);
    const again = await publish(node, author, course.id);
    expect(again.publishedAt).toBe(published.publishedAt);
  });

  it('co-instructors author the course and share its channel; removing one takes both away; the owner stays', async () => {
    const author = await registerInstructor(node);
    const [coUser, learner] = await registerUsers(node.url, 2);
    const { course } = await publishedCourse(node, { author });
    const added = await ok(call<CourseEnvelope>(node, 'POST', `/courses/${course.id}/instructors`, author, { userId: coUser.user.id }));
    expect(added.course.instructors.map((i) => [i.user.id, i.role])).toEqual([
      [author.user.id, 'owner'],
      [coUser.user.id, 'instructor'],
    ]);
    expect(await channelMemberIds(node, course.channelId!)).toEqual([author.user.id, coUser.user.id]);
    expect((await call(node, 'PATCH', `/courses/${course.id}`, coUser, { summary: 'Co-written.' })).status).toBe(200);
    // Co-instructors need no enrolment.
    expect((await call(node, 'POST', `/courses/${course.id}/enrol`, coUser)).status).toBe(403);
    expect((await call(node, 'POST', `/courses/${course.id}/instructors`, learner, { userId: learner.user.id })).status).toBe(403);

    const removed = await ok(call<CourseEnvelope>(node, 'DELETE', `/courses/${course.id}/instructors/${coUser.user.id}`, author));
    expect(removed.course.instructors).toHaveLength(1);
    expect(await channelMemberIds(node, course.channelId!)).toEqual([author.user.id]);
    expect((await call(node, 'PATCH', `/courses/${course.id}`, coUser, { summary: 'No more.' })).status).toBe(403);
    expect((await call(node, 'DELETE', `/courses/${course.id}/instructors/${author.user.id}`, author)).status).toBe(409);
  });
});

describe('drafts and unpublished courses do not exist for learners', () => {
  it('through the catalogue, the course page and the lesson route', async () => {
    const author = await registerInstructor(node);
    const [learner] = await registerUsers(node.url, 1);
    const draft = await createCourse(node, author, { title: 'A draft on its way' });
    const module = await addModule(node, author, draft.id);
    const lesson = await addLesson(node, author, module.id, { preview: true });
    const listed = await ok(call<CoursePage>(node, 'GET', '/courses?limit=100', learner));
    expect(listed.data.map((c) => c.id)).not.toContain(draft.id);
    expect((await call(node, 'GET', `/courses/${draft.id}`, learner)).status).toBe(404);
    expect((await call(node, 'GET', `/courses/${draft.id}`, null)).status).toBe(404);
    expect((await call(node, 'GET', `/lessons/${lesson.id}`, learner)).status).toBe(404);
    expect((await call(node, 'POST', `/courses/${draft.id}/enrol`, learner)).status).toBe(404);
    // The author sees it, status and all.
    expect((await ok(call<CourseDetailDto>(node, 'GET', `/courses/${draft.id}`, author))).course.status).toBe('draft');

    await publish(node, author, draft.id);
    await enrol(node, learner, draft.id);
    expect((await call(node, 'GET', `/lessons/${lesson.id}`, learner)).status).toBe(200);
    await ok(call(node, 'POST', `/courses/${draft.id}/unpublish`, author));
    expect((await call(node, 'GET', `/courses/${draft.id}`, learner)).status).toBe(404);
    expect((await call(node, 'GET', `/lessons/${lesson.id}`, learner)).status).toBe(404);
    expect((await ok(call<MyCourseList>(node, 'GET', '/me/courses', learner))).data).toEqual([]);
  });
});

describe('the catalogue', () => {
  it('filters by community, level and tag, pages by cursor, and keeps private communities to their members', async () => {
    const [owner, member, outsider] = await registerUsers(node.url, 3);
    const pub = await seedCommunity(node, { members: [{ userId: owner.user.id, role: 'owner' }], channels: [] });
    const priv = await seedCommunity(node, {
      members: [
        { userId: owner.user.id, role: 'owner' },
        { userId: member.user.id },
      ],
      channels: [],
      visibility: 'private',
    });
    const make = async (communityId: string, title: string, level: string, tags: string[]) =>
      (await publishedCourse(node, { author: owner, lessons: 1, course: { communityId, title, level: level as 'beginner', tags } })).course;
    const a = await make(pub.communityId, 'Public beginner', 'beginner', ['python']);
    const b = await make(pub.communityId, 'Public advanced', 'advanced', ['python', 'ml']);
    const c = await make(pub.communityId, 'Public intermediate', 'intermediate', ['sql']);
    const p = await make(priv.communityId, 'Private course', 'beginner', ['python']);

    const list = async (user: TestUser | null, query: string) =>
      (await ok(call<CoursePage>(node, 'GET', `/courses?${query}`, user))).data.map((x) => x.id);
    // Newest first.
    expect(await list(outsider, `communityId=${pub.communityId}`)).toEqual([c.id, b.id, a.id]);
    expect(await list(null, `communityId=${pub.communityId}&level=advanced`)).toEqual([b.id]);
    expect(await list(outsider, `communityId=${pub.communityId}&tag=Python`)).toEqual([b.id, a.id]);
    expect(await list(outsider, `communityId=${priv.communityId}`)).toEqual([]);
    expect(await list(null, `communityId=${priv.communityId}`)).toEqual([]);
    expect(await list(member, `communityId=${priv.communityId}`)).toEqual([p.id]);
    expect((await call(node, 'GET', `/courses/${p.id}`, outsider)).status).toBe(404);
    expect((await call(node, 'GET', `/courses/${p.id}`, null)).status).toBe(404);
    expect((await call(node, 'GET', `/courses/${p.id}`, member)).status).toBe(200);

    const first = await ok(call<CoursePage>(node, 'GET', `/courses?communityId=${pub.communityId}&limit=2`, null));
    expect(first.data.map((x) => x.id)).toEqual([c.id, b.id]);
    expect(first.data[0]).toMatchObject({ channelId: null, me: null, lessonCount: 1, moduleCount: 1 });
    const second = await ok(call<CoursePage>(node, 'GET', `/courses?communityId=${pub.communityId}&limit=2&cursor=${first.nextCursor}`, null));
    expect(second).toEqual({ data: [expect.objectContaining({ id: a.id })], nextCursor: null });
    expect((await call(node, 'GET', '/courses?cursor=nonsense', null)).status).toBe(400);
    expect((await call(node, 'GET', '/courses', { accessToken: 'not-a-token' })).status).toBe(401);
  });

  it('the course page shows the outline without lesson content, with my enrolment and progress', async () => {
    const author = await registerInstructor(node);
    const [learner] = await registerUsers(node.url, 1);
    const course = await createCourse(node, author);
    const module = await addModule(node, author, course.id);
    await addLesson(node, author, module.id, { title: 'Secret body', body: 'SECRET TEXT', durationMinutes: 12, preview: true });
    await addLesson(node, author, module.id, {
      title: 'Check yourself',
      kind: 'quiz',
      quiz: { questions: [{ kind: 'single', prompt: 'QUESTION PROMPT', options: ['KEY-A', 'KEY-B'], correct: [1] }] },
      passPercent: 80,
    });
    await publish(node, author, course.id);

    const anonymous = await ok(call<CourseDetailDto>(node, 'GET', `/courses/${course.id}`, null));
    expect(anonymous.modules).toEqual([
      {
        id: module.id,
        title: module.title,
        lessons: [
          expect.objectContaining({ title: 'Secret body', kind: 'text', durationMinutes: 12, preview: true, locked: false, completed: false }),
          expect.objectContaining({ title: 'Check yourself', kind: 'quiz', preview: false, locked: true, availableAt: null }),
        ],
      },
    ]);
    expect(anonymous).toMatchObject({ enrolment: null, progress: null, course: { channelId: null, me: null } });
    const text = JSON.stringify(anonymous);
    for (const secret of ['SECRET TEXT', 'QUESTION PROMPT', 'KEY-A', 'correct', 'accepted']) expect(text).not.toContain(secret);

    await enrol(node, learner, course.id);
    const mine = await ok(call<CourseDetailDto>(node, 'GET', `/courses/${course.id}`, learner));
    expect(mine.modules[0]!.lessons.map((l) => l.locked)).toEqual([false, false]);
    expect(mine.enrolment).toMatchObject({ courseId: course.id, user: { id: learner.user.id } });
    expect(mine.progress).toEqual({ courseId: course.id, completedLessonIds: [], percent: 0, lastLessonId: null });
    expect(mine.course).toMatchObject({ channelId: course.channelId, enrolledCount: 1, me: { enrolled: true, canLearn: true, author: false } });
    expect(JSON.stringify(mine)).not.toContain('KEY-A');
  });
});

describe('the outline', () => {
  it('reorders modules and moves lessons between them in one call', async () => {
    const author = await registerInstructor(node);
    const course = await createCourse(node, author);
    const m1 = await addModule(node, author, course.id, 'One');
    const m2 = await addModule(node, author, course.id, 'Two');
    const [a, b] = [await addLesson(node, author, m1.id, { title: 'Lesson A' }), await addLesson(node, author, m1.id, { title: 'Lesson B' })];
    const c = await addLesson(node, author, m2.id, { title: 'Lesson C' });
    const res = await ok(
      call<OutlineEnvelope>(node, 'PUT', `/courses/${course.id}/outline`, author, {
        modules: [
          { id: m2.id, lessonIds: [c.id, a.id] },
          { id: m1.id, lessonIds: [b.id] },
        ],
      }),
    );
    expect(res.modules.map((m) => [m.title, m.lessons.map((l) => l.title)])).toEqual([
      ['Two', ['Lesson C', 'Lesson A']],
      ['One', ['Lesson B']],
    ]);
    const page = await ok(call<CourseDetailDto>(node, 'GET', `/courses/${course.id}`, author));
    expect(page.modules.map((m) => m.lessons.map((l) => l.id))).toEqual([[c.id, a.id], [b.id]]);
    const moved = await ok(call<{ authorLesson: AuthorLessonDto }>(node, 'GET', `/lessons/${a.id}?edit=1`, author));
    expect(moved.authorLesson).toMatchObject({ moduleId: m2.id, position: 1 });
  });

  it('refuses an outline that leaves out, repeats or invents a module or lesson, changing nothing', async () => {
    const author = await registerInstructor(node);
    const course = await createCourse(node, author);
    const m1 = await addModule(node, author, course.id, 'One');
    const m2 = await addModule(node, author, course.id, 'Two');
    const a = await addLesson(node, author, m1.id);
    const b = await addLesson(node, author, m2.id);
    const foreign = await publishedCourse(node, { lessons: 1 });
    const attempts = [
      { modules: [{ id: m1.id, lessonIds: [a.id, b.id] }] },
      {
        modules: [
          { id: m1.id, lessonIds: [a.id, b.id] },
          { id: m2.id, lessonIds: [b.id] },
        ],
      },
      {
        modules: [
          { id: m1.id, lessonIds: [a.id] },
          { id: m2.id, lessonIds: [] },
        ],
      },
      {
        modules: [
          { id: m1.id, lessonIds: [a.id, foreign.lessons[0]!.id] },
          { id: m2.id, lessonIds: [b.id] },
        ],
      },
      {
        modules: [
          { id: m1.id, lessonIds: [a.id] },
          { id: foreign.module.id, lessonIds: [b.id] },
        ],
      },
    ];
    for (const body of attempts) {
      const res = await call(node, 'PUT', `/courses/${course.id}/outline`, author, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_input');
    }
    const page = await ok(call<CourseDetailDto>(node, 'GET', `/courses/${course.id}`, author));
    expect(page.modules.map((m) => m.lessons.map((l) => l.id))).toEqual([[a.id], [b.id]]);
  });
});

describe('lesson authoring', () => {
  it('validates quizzes and stores them with question ids; kinds carry only what fits them', async () => {
    const author = await registerInstructor(node);
    const course = await createCourse(node, author);
    const module = await addModule(node, author, course.id);
    const post = (body: Record<string, unknown>) => call(node, 'POST', `/modules/${module.id}/lessons`, author, { title: 'A lesson', ...body });
    const quizOf = (...questions: unknown[]) => ({ kind: 'quiz', quiz: { questions } });
    const bad = [
      quizOf({ kind: 'single', prompt: 'Two right?', options: ['a', 'b'], correct: [0, 1] }),
      quizOf({ kind: 'single', prompt: 'Out of range', options: ['a', 'b'], correct: [2] }),
      quizOf({ kind: 'multiple', prompt: 'None right', options: ['a', 'b'], correct: [] }),
      quizOf({ kind: 'short', prompt: 'No answers', accepted: [] }),
      quizOf(),
      { kind: 'quiz' },
      { kind: 'text', quiz: { questions: [{ kind: 'short', prompt: 'Q', accepted: ['a'] }] } },
      { kind: 'text', maxAttempts: 3 },
      { kind: 'live' },
      { kind: 'text', classroomId: crypto.randomUUID() },
      { kind: 'text', release: { type: 'afterEnrolment' } },
    ];
    for (const body of bad) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const quiz = await ok<{ lesson: AuthorLessonDto }>(
      post(
        quizOf(
          { kind: 'single', prompt: 'Pick one', options: ['a', 'b', 'c'], correct: [2] },
          { kind: 'multiple', prompt: 'Pick some', options: ['a', 'b', 'c'], correct: [2, 0] },
          { kind: 'short', prompt: 'Say it', accepted: ['Mean', 'average'] },
        ),
      ),
      201,
    );
    expect(quiz.lesson.quiz!.questions).toEqual([
      { id: expect.any(String), kind: 'single', prompt: 'Pick one', options: ['a', 'b', 'c'], correct: [2], accepted: [] },
      { id: expect.any(String), kind: 'multiple', prompt: 'Pick some', options: ['a', 'b', 'c'], correct: [0, 2], accepted: [] },
      { id: expect.any(String), kind: 'short', prompt: 'Say it', options: [], correct: [], accepted: ['Mean', 'average'] },
    ]);
    // Editing keeps the ids of questions that stay.
    const ids = quiz.lesson.quiz!.questions.map((q) => q.id);
    const edited = await ok(
      call<{ lesson: AuthorLessonDto }>(node, 'PATCH', `/lessons/${quiz.lesson.id}`, author, {
        quiz: { questions: [{ kind: 'short', prompt: 'Say it', accepted: ['mean'] }, { kind: 'short', prompt: 'New one', accepted: ['x'] }] },
      }),
    );
    expect(edited.lesson.quiz!.questions[0]!.id).toBe(ids[2]);
    expect(ids).not.toContain(edited.lesson.quiz!.questions[1]!.id);

    const video = await seedAsset(node, author, 'video');
    const lesson = await ok<{ lesson: AuthorLessonDto }>(post({ kind: 'video', assetId: video, release: { type: 'afterEnrolment', days: 2 } }), 201);
    expect(lesson.lesson).toMatchObject({ assetId: video, release: { type: 'afterEnrolment', days: 2 } });
    expect((await post({ kind: 'video', assetId: await seedAsset(node, author, 'pdf') })).status).toBe(400);
  });

  it('a live lesson links a class of the course\'s community that the author manages', async () => {
    const [ownerUser] = await registerUsers(node.url, 1);
    const { communityId } = await seedCommunity(node, { members: [{ userId: ownerUser.user.id, role: 'owner' }], channels: [] });
    const classroom = await ok<{ classroom: { id: string } }>(
      call(node, 'POST', '/classrooms', ownerUser, {
        communityId,
        title: 'Live Q&A',
        startsAt: new Date(Date.now() + 3_600_000).toISOString(),
        durationMinutes: 60,
        capacity: 10,
      }),
      201,
    );
    const course = await createCourse(node, ownerUser, { communityId });
    const module = await addModule(node, ownerUser, course.id);
    const live = await addLesson(node, ownerUser, module.id, { kind: 'live', classroomId: classroom.classroom.id, body: '' });
    expect(live.classroomId).toBe(classroom.classroom.id);
    const elsewhere = await registerInstructor(node);
    const other = await createCourse(node, elsewhere);
    const otherModule = await addModule(node, elsewhere, other.id);
    const res = await call(node, 'POST', `/modules/${otherModule.id}/lessons`, elsewhere, { title: 'Not mine', kind: 'live', classroomId: classroom.classroom.id });
    expect(res.status).toBe(400);
  });
});
