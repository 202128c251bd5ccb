import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubmissionEnvelope, SubmissionList, SubmissionPage } from '../../contracts/courseLearning.ts';
import { loadProgress } from '../../domain/courses/progress.ts';
import { samplePdf, uploadAsset } from '../../test/assetFactories.ts';
import { withPlatformRole } from '../../test/classroomFactories.ts';
import { seedWorld } from '../../test/communities.ts';
import { call, connectSocket, nextEvent, ok, registerUser, type TestUser } from '../../test/factories.ts';
import { enrol, seedCourse } from '../../test/learningFactories.ts';
import { dbOf, startCluster, type RunningNode } from '../../test/nodes.ts';

let cluster: Awaited<ReturnType<typeof startCluster>>;
let node: RunningNode;
let other: RunningNode;
beforeAll(async () => {
  cluster = await startCluster(2);
  [node, other] = cluster.nodes as [RunningNode, RunningNode];
});
afterAll(async () => cluster?.close());

const submit = (lessonId: string, user: TestUser, body: unknown) => call<SubmissionEnvelope>(node, 'POST', `/lessons/${lessonId}/submissions`, user, body);
const grade = (submissionId: string, user: TestUser, body: unknown) => call<SubmissionEnvelope>(node, 'POST', `/submissions/${submissionId}/grade`, user, body);

async function assignmentCourse() {
  const world = await seedWorld(node, {
    people: { teacher: 'member', learner: 'member', classmate: 'member', otherTeacher: 'member', communityAdmin: 'admin' },
  });
  const course = await seedCourse(node, {
    owner: world.teacher,
    communityId: world.communityId,
    title: 'Essay writing',
    modules: [{ read: { kind: 'text' }, essay: { kind: 'assignment', passPercent: 60 } }],
  });
  // Teaches a course of its own in the same community: no say over this one.
  await seedCourse(node, { owner: world.otherTeacher, communityId: world.communityId, modules: [{ x: {} }] });
  await enrol(node, course.courseId, world.learner);
  await enrol(node, course.courseId, world.classmate);
  return { ...world, ...course };
}

describe('assignment submissions', () => {
  let w: Awaited<ReturnType<typeof assignmentCourse>>;
  let submissionId: string;
  beforeAll(async () => {
    w = await assignmentCourse();
  });

  it('a learner hands in text and their own files; signed URLs come back to them', async () => {
    const file = await uploadAsset(node, w.learner, { name: 'essay.pdf', bytes: samplePdf(), type: 'application/pdf' });
    const { submission } = await ok(submit(w.lessons.essay, w.learner, { text: '  My essay.  ', assetIds: [file.id] }), 201);
    submissionId = submission.id;
    expect(submission).toMatchObject({
      courseId: w.courseId,
      lessonId: w.lessons.essay,
      lessonTitle: 'essay',
      learner: { id: w.learner.user.id, displayName: w.learner.user.displayName },
      text: 'My essay.',
      status: 'submitted',
      scorePercent: null,
      passed: null,
      feedback: null,
      gradedBy: null,
      gradedAt: null,
    });
    expect(submission.assets).toHaveLength(1);
    expect(submission.assets[0]).toMatchObject({ id: file.id, name: 'essay.pdf', kind: 'pdf' });
    expect(submission.assets[0]!.url).toMatch(/sig=/);
    const attached = await dbOf(node).selectFrom('assets').select('attached_at').where('id', '=', file.id).executeTakeFirstOrThrow();
    expect(attached.attached_at).not.toBeNull();

    const mine = await ok(call<SubmissionList>(node, 'GET', `/lessons/${w.lessons.essay}/submissions`, w.learner));
    expect(mine.data.map((s) => s.id)).toEqual([submissionId]);
    // A classmate sees only their own (none).
    expect((await ok(call<SubmissionList>(node, 'GET', `/lessons/${w.lessons.essay}/submissions`, w.classmate))).data).toEqual([]);
  });

  it('refuses someone else’s files, empty hand-ins, non-assignment lessons and people not enrolled', async () => {
    const theirs = await uploadAsset(node, w.classmate, { name: 'copied.pdf', bytes: samplePdf('% theirs\n'), type: 'application/pdf' });
    const stolen = await submit(w.lessons.essay, w.learner, { text: 'mine', assetIds: [theirs.id] });
    expect(stolen.status).toBe(400);
    expect(stolen.body).toMatchObject({ error: { code: 'invalid_input' } });
    expect((await submit(w.lessons.essay, w.learner, { text: '   ', assetIds: [] })).status).toBe(400);
    expect((await submit(w.lessons.read, w.learner, { text: 'hello' })).status).toBe(404);
    expect((await submit(w.lessons.essay, w.otherTeacher, { text: 'hello' })).status).toBe(403);
    const outsider = await registerUser(node.url);
    expect((await submit(w.lessons.essay, outsider, { text: 'hello' })).status).toBe(403);
    expect((await call(node, 'POST', `/lessons/${w.lessons.essay}/submissions`, null, { text: 'hello' })).status).toBe(401);
  });

  it('the course’s authors list them, with the files; learners and other instructors cannot', async () => {
    const platformAdmin = await withPlatformRole(node, await registerUser(node.url), 'admin');
    for (const author of [w.teacher, w.communityAdmin, platformAdmin]) {
      const page = await ok(call<SubmissionPage>(node, 'GET', `/courses/${w.courseId}/submissions?status=submitted`, author));
      expect(page.data.map((s) => s.id)).toEqual([submissionId]);
      expect(page.data[0]!.assets[0]!.url).toMatch(/sig=/);
      expect(page.nextCursor).toBeNull();
    }
    for (const refused of [w.learner, w.classmate, w.otherTeacher]) {
      const res = await call(node, 'GET', `/courses/${w.courseId}/submissions`, refused);
      expect(res.status).toBe(403);
      expect(JSON.stringify(res.body)).not.toContain('My essay');
    }
  });

  it('grading: refused to learners and other instructors; allowed to the instructor, community admins and platform admins', async () => {
    for (const refused of [w.learner, w.classmate, w.otherTeacher]) expect((await grade(submissionId, refused, { scorePercent: 100 })).status).toBe(403);
    expect((await grade(crypto.randomUUID(), w.teacher, { scorePercent: 100 })).status).toBe(404);
    expect((await grade(submissionId, w.teacher, { scorePercent: 101 })).status).toBe(400);

    const low = await ok(grade(submissionId, w.communityAdmin, { scorePercent: 40, feedback: 'Needs a conclusion.' }));
    expect(low.submission).toMatchObject({ status: 'graded', scorePercent: 40, passed: false, feedback: 'Needs a conclusion.', gradedBy: { id: w.communityAdmin.user.id } });
    expect((await loadProgress(dbOf(node), w.courseId, w.learner.user.id)).completedLessonIds).toEqual([]);
    const listed = await ok(call<SubmissionPage>(node, 'GET', `/courses/${w.courseId}/submissions?status=graded`, w.teacher));
    expect(listed.data.map((s) => [s.id, s.scorePercent])).toEqual([[submissionId, 40]]);

    const platformAdmin = await withPlatformRole(node, await registerUser(node.url), 'admin');
    // Re-graded at the lesson's pass mark (60): the lesson completes for the learner.
    const passed = await ok(grade(submissionId, platformAdmin, { scorePercent: 60, feedback: 'Good.' }));
    expect(passed.submission).toMatchObject({ scorePercent: 60, passed: true, gradedBy: { id: platformAdmin.user.id } });
    expect((await loadProgress(dbOf(node), w.courseId, w.learner.user.id)).completedLessonIds).toEqual([w.lessons.essay]);

    // Done once passed: no more hand-ins; a later lower re-grade does not take the completion back.
    expect((await submit(w.lessons.essay, w.learner, { text: 'again' })).status).toBe(409);
    await ok(grade(submissionId, w.teacher, { scorePercent: 10 }));
    expect((await loadProgress(dbOf(node), w.courseId, w.learner.user.id)).completedLessonIds).toEqual([w.lessons.essay]);
  });

  it('the learner hears submission:graded live, on another node than the grader’s', async () => {
    const { submission } = await ok(submit(w.lessons.essay, w.classmate, { text: 'Classmate essay' }), 201);
    const socket = await connectSocket(other.url, w.classmate.accessToken);
    const learnerSocket = await connectSocket(other.url, w.learner.accessToken);
    try {
      const strays: unknown[] = [];
      learnerSocket.on('submission:graded', (e) => strays.push(e));
      const heard = nextEvent(socket, 'submission:graded', 5000);
      const graded = await ok(grade(submission.id, w.teacher, { scorePercent: 85, feedback: 'Well argued.' }));
      expect(await heard).toEqual({
        submissionId: submission.id,
        courseId: w.courseId,
        lessonId: w.lessons.essay,
        scorePercent: 85,
        passed: true,
        feedback: 'Well argued.',
        gradedAt: graded.submission.gradedAt,
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(strays).toEqual([]);
    } finally {
      socket.close();
      learnerSocket.close();
    }
  });

  it('pages through the grading queue oldest first', async () => {
    const c = await assignmentCourse();
    const ids: string[] = [];
    for (const [user, text] of [[c.learner, 'one'], [c.classmate, 'two'], [c.learner, 'three']] as const) {
      ids.push((await ok(submit(c.lessons.essay, user, { text }), 201)).submission.id);
    }
    const all = await ok(call<SubmissionPage>(node, 'GET', `/courses/${c.courseId}/submissions`, c.teacher));
    expect(new Set(all.data.map((s) => s.id))).toEqual(new Set(ids));
    const first = await ok(call<SubmissionPage>(node, 'GET', `/courses/${c.courseId}/submissions?limit=2`, c.teacher));
    expect(first.nextCursor).not.toBeNull();
    const second = await ok(call<SubmissionPage>(node, 'GET', `/courses/${c.courseId}/submissions?limit=2&cursor=${first.nextCursor}`, c.teacher));
    expect(second.nextCursor).toBeNull();
    expect([...first.data, ...second.data].map((s) => s.id)).toEqual(all.data.map((s) => s.id));
    expect(all.data.map((s) => s.submittedAt)).toEqual(all.data.map((s) => s.submittedAt).sort());
    expect((await call(node, 'GET', `/courses/${c.courseId}/submissions?cursor=garbage`, c.teacher)).status).toBe(400);
  });
});
