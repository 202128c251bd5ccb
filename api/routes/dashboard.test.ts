import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardDto } from '../../contracts/dashboard.ts';
import { seedWorld } from '../../test/communities.ts';
import { scheduleClassroom, minutesFrom } from '../../test/classroomFactories.ts';
import { insertMessage, setReadState } from '../../test/communityFactories.ts';
import { createEbook, grantEbook } from '../../test/ebookFactories.ts';
import { call, connectSocket, emitOk, eventually, ok, registerUser, type TestUser } from '../../test/factories.ts';
import { postAs } from '../../test/feedFactories.ts';
import { completeAs, enrol, seedCourse } from '../../test/learningFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

const dashboardOf = (user: TestUser) => ok(call<DashboardDto>(node, 'GET', '/me/dashboard', user));

describe('GET /me/dashboard', () => {
  it('shows a learner their course, ebook, classes, unread mention and community posts, and nothing they may not read', async () => {
    const world = await seedWorld(node, {
      people: { teacher: 'owner', learner: 'member', classmate: 'member' },
      channels: [{ name: 'general' }, { name: 'staff', visibility: 'private', members: ['teacher'] }],
    });
    const { teacher, learner, classmate } = world;

    // A course with three lessons: the first done, so a third of the way and the second lesson next.
    const course = await seedCourse(node, { owner: teacher, communityId: world.communityId, title: 'Algebra I', modules: [{ one: {}, two: { title: 'Balancing equations' }, three: {} }] });
    await enrol(node, course.courseId, learner);
    await completeAs(node, course.lessons.one, learner);
    // A finished course is not "in progress"; a course whose entitlement was revoked is gone too.
    const done = await seedCourse(node, { owner: teacher, communityId: world.communityId, title: 'Finished course', modules: [{ only: {} }] });
    await enrol(node, done.courseId, learner);
    await completeAs(node, done.lessons.only, learner);
    const refunded = await seedCourse(node, { owner: teacher, communityId: world.communityId, title: 'Refunded course', modules: [{ only: {} }] });
    await enrol(node, refunded.courseId, learner);
    await dbOf(node).updateTable('entitlements').set({ revoked_at: new Date() }).where('resource_id', '=', refunded.courseId).execute();

    // An ebook being read.
    const ebook = await createEbook(node, teacher, { title: 'Algebra, the book', communityId: world.communityId });
    await grantEbook(node, ebook.id, learner.user.id);
    const chapter = ebook.toc[1]!;
    await ok(call(node, 'PUT', `/ebooks/${ebook.id}/position`, learner, { chapterId: chapter.id, offset: 0 }));

    // Classes: one in two hours the learner registered for, one live now, one too far ahead, one in a private
    // community the learner is not in.
    const soon = await scheduleClassroom(node, teacher, world.communityId, { title: 'Office hours', startsAt: minutesFrom(120) });
    await ok(call(node, 'POST', `/classrooms/${soon.id}/register`, learner), 201);
    const live = await scheduleClassroom(node, teacher, world.communityId, { title: 'Live revision', startsAt: minutesFrom(1) });
    await ok(call(node, 'POST', `/classrooms/${live.id}/register`, learner), 201);
    await ok(call(node, 'POST', `/classrooms/${live.id}/start`, teacher));
    await scheduleClassroom(node, teacher, world.communityId, { title: 'Next month', startsAt: minutesFrom(60 * 24 * 10) });
    const secret = await seedWorld(node, { people: { boss: 'owner', outsider: null }, visibility: 'private' });
    await scheduleClassroom(node, secret.boss, secret.communityId, { title: 'Secret class', startsAt: minutesFrom(90) });

    // Posts: in the learner's community, and in a private community the learner does not belong to.
    await postAs(node, classmate, world.communityId, '**Welcome** to the [study group](https://example.com)!');
    await postAs(node, secret.boss, secret.communityId, 'Private plans nobody else may read');

    // A mention in #general, sent for real so it makes a notification; a plain unread message in the private
    // channel the learner cannot read.
    const socket = await connectSocket(node.url, classmate.accessToken);
    try {
      await emitOk(socket, 'message:send', { channelId: world.channels.general, clientId: `dash-${Date.now()}`, body: `@${learner.user.displayName} see you in class` });
    } finally {
      socket.close();
    }
    await insertMessage(node, { channelId: world.channels.staff, authorId: teacher.user.id });
    type Inbox = { data: { kind: string }[]; unreadCount: number };
    const inbox = () => ok(call<Inbox>(node, 'GET', '/notifications', learner));
    await eventually(async () => (await inbox()).data.some((n) => n.kind === 'mention'), 10_000, 'the mention notification');

    const dashboard = await dashboardOf(learner);
    expect(dashboard.courses).toEqual([
      { courseId: course.courseId, title: 'Algebra I', percent: 33, nextLesson: { id: course.lessons.two, title: 'Balancing equations' } },
    ]);
    expect(dashboard.ebooks).toEqual([
      { ebookId: ebook.id, title: 'Algebra, the book', chapterId: chapter.id, chapterTitle: chapter.title, readAt: expect.any(String) },
    ]);
    expect(dashboard.classes.map((c) => [c.title, c.status, c.canJoin, c.communityName])).toEqual([
      ['Live revision', 'live', true, expect.stringContaining('Community')],
      ['Office hours', 'scheduled', false, expect.stringContaining('Community')],
    ]);
    expect(dashboard.classes[1]).toMatchObject({ myRegistration: 'registered', host: { id: teacher.user.id } });
    expect(dashboard.unread.channels).toEqual([
      expect.objectContaining({ id: world.channels.general, kind: 'channel', name: '#general', communityId: world.communityId, unreadCount: 1, mentionCount: 1 }),
    ]);
    expect(dashboard.unread.totalMentions).toBe(1);
    // The bell's count: the mention and the live class's start.
    expect(dashboard.unread.notifications).toBe((await inbox()).unreadCount);
    expect(dashboard.unread.notifications).toBeGreaterThanOrEqual(1);
    expect(dashboard.activity.map((p) => p.excerpt)).toEqual(['Welcome to the study group!']);
    expect(dashboard.activity[0]).toMatchObject({ communityId: world.communityId, author: { id: classmate.user.id } });
    expect(JSON.stringify(dashboard)).not.toContain('Private plans');
    expect(JSON.stringify(dashboard)).not.toContain('Secret class');
    expect(dashboard.communityCount).toBe(1);
    expect(dashboard.teaching).toBeNull();

    // Reading the channel clears it from the list.
    const { last_seq } = await dbOf(node).selectFrom('channels').select('last_seq').where('id', '=', world.channels.general).executeTakeFirstOrThrow();
    await setReadState(node, world.channels.general, learner.user.id, last_seq);
    expect((await dashboardOf(learner)).unread.channels).toEqual([]);

    // The private community's own member does see its post and its class.
    const boss = await dashboardOf(secret.boss);
    expect(boss.activity.map((p) => p.excerpt)).toEqual(['Private plans nobody else may read']);
    expect(boss.classes.map((c) => c.title)).toEqual(['Secret class']);
    // Somebody outside every community sees none of it, and is not counted as teaching.
    const outsider = await dashboardOf(secret.outsider);
    expect(outsider).toMatchObject({ courses: [], ebooks: [], classes: [], activity: [], communityCount: 0, teaching: null });
  });

  it('gives instructors their next class, new enrolments and submissions to grade', async () => {
    const world = await seedWorld(node, { people: { teacher: 'owner', learner: 'member', lurker: 'member' } });
    const { teacher, learner, lurker } = world;
    const course = await seedCourse(node, { owner: teacher, communityId: world.communityId, title: 'Essays', modules: [{ essay: { kind: 'assignment' } }] });
    await enrol(node, course.courseId, learner);
    await enrol(node, course.courseId, lurker, new Date(Date.now() - 30 * 24 * 60 * 60_000));
    await ok(call(node, 'POST', `/lessons/${course.lessons.essay}/submissions`, learner, { text: 'My essay' }), 201);
    const later = await scheduleClassroom(node, teacher, world.communityId, { title: 'Later class', startsAt: minutesFrom(60 * 24 * 20) });
    await scheduleClassroom(node, teacher, world.communityId, { title: 'Even later', startsAt: minutesFrom(60 * 24 * 30) });

    const mine = await dashboardOf(teacher);
    expect(mine.teaching).toEqual({
      nextClass: expect.objectContaining({ id: later.id, title: 'Later class', myRole: 'host' }),
      newEnrolments: 1,
      toGrade: 1,
      courses: [{ courseId: course.courseId, title: 'Essays', newEnrolments: 1, toGrade: 1 }],
    });
    // Twenty days ahead is not "soon" for the class list.
    expect(mine.classes).toEqual([]);

    // Learners get no teaching section, even in a course with work waiting.
    expect((await dashboardOf(learner)).teaching).toBeNull();
    // Someone who only hosts a class is an instructor too, with nothing to grade.
    const host = await registerUser(node.url);
    const hosted = await seedWorld(node, { people: { member: 'member' } });
    await dbOf(node).insertInto('community_members').values({ community_id: hosted.communityId, user_id: host.user.id, role: 'owner' }).execute();
    await scheduleClassroom(node, host, hosted.communityId, { title: 'Hosted soon', startsAt: minutesFrom(30) });
    expect((await dashboardOf(host)).teaching).toMatchObject({ nextClass: { title: 'Hosted soon' }, newEnrolments: 0, toGrade: 0, courses: [] });
  });

  it('needs a signed-in caller', async () => {
    const res = await call(node, 'GET', '/me/dashboard');
    expect([res.status, res.body.error.code]).toEqual([401, 'unauthenticated']);
  });
});
