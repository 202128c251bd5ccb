import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptEnvelope, CertificateEnvelope, CertificateList, SubmissionEnvelope } from '../../contracts/courseLearning.ts';
import { seedWorld } from '../../test/communities.ts';
import { call, connectSocket, nextEvent, ok } from '../../test/factories.ts';
import { certificatesOf, completeAs, enrol, pdfText, question, seedCourse } from '../../test/learningFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

describe('earning a certificate', () => {
  let w: Awaited<ReturnType<typeof world>>;
  let certificateId: string;

  async function world() {
    const people = await seedWorld(node, { people: { teacher: 'owner', learner: 'member' } });
    const course = await seedCourse(node, {
      owner: people.teacher,
      communityId: people.communityId,
      title: 'Bread baking',
      modules: [
        { read: { kind: 'text' }, extra: { kind: 'text', required: false } },
        { quiz: { kind: 'quiz', questions: [question.single('flour', 0)] }, bake: { kind: 'assignment' } },
      ],
    });
    await enrol(node, course.courseId, people.learner);
    const community = await dbOf(node).selectFrom('communities').select('name').where('id', '=', people.communityId).executeTakeFirstOrThrow();
    return { ...people, ...course, communityName: community.name };
  }

  beforeAll(async () => {
    w = await world();
  });

  const none = async () => expect(await certificatesOf(node, w.courseId, w.learner.user.id)).toEqual([]);

  it('is not issued while any required lesson, quiz or assignment is outstanding', async () => {
    await completeAs(node, w.lessons.read, w.learner);
    await none();
    const passed = await ok(call<AttemptEnvelope>(node, 'POST', `/lessons/${w.lessons.quiz}/attempts`, w.learner, { answers: [{ questionId: 'flour', choice: [0] }] }), 201);
    expect(passed.passed).toBe(true);
    await none();
    const { submission } = await ok(call<SubmissionEnvelope>(node, 'POST', `/lessons/${w.lessons.bake}/submissions`, w.learner, { text: 'A sourdough loaf.' }), 201);
    await none();
    // Graded below the pass mark: still outstanding.
    await ok(call(node, 'POST', `/submissions/${submission.id}/grade`, w.teacher, { scorePercent: 50 }));
    await none();
    expect((await dbOf(node).selectFrom('course_enrolments').select('completed_at').where('user_id', '=', w.learner.user.id).executeTakeFirstOrThrow()).completed_at).toBeNull();
  });

  it('is issued once, when the last requirement is met (the optional lesson is not one), and announced to the learner', async () => {
    const socket = await connectSocket(node.url, w.learner.accessToken);
    try {
      const announced = nextEvent(socket, 'certificate:issued', 10_000);
      const [submission] = await dbOf(node).selectFrom('assignment_submissions').select('id').where('user_id', '=', w.learner.user.id).execute();
      await ok(call(node, 'POST', `/submissions/${submission!.id}/grade`, w.teacher, { scorePercent: 90 }));
      const issued = await certificatesOf(node, w.courseId, w.learner.user.id);
      expect(issued).toHaveLength(1);
      certificateId = issued[0]!.id;
      expect(issued[0]).toMatchObject({ recipient_name: w.learner.user.displayName, course_title: 'Bread baking', issuer_name: w.communityName });
      const enrolment = await dbOf(node).selectFrom('course_enrolments').select('completed_at').where('user_id', '=', w.learner.user.id).executeTakeFirstOrThrow();
      expect(enrolment.completed_at).toEqual(issued[0]!.issued_at);
      expect(await announced).toEqual({ certificateId, courseId: w.courseId, courseTitle: 'Bread baking', issuedAt: issued[0]!.issued_at.toISOString() });
    } finally {
      socket.close();
    }
    // Meeting requirements again (a re-grade, the optional lesson) issues nothing more.
    const [submission] = await dbOf(node).selectFrom('assignment_submissions').select('id').where('user_id', '=', w.learner.user.id).execute();
    await ok(call(node, 'POST', `/submissions/${submission!.id}/grade`, w.teacher, { scorePercent: 95 }));
    await completeAs(node, w.lessons.extra, w.learner);
    expect((await certificatesOf(node, w.courseId, w.learner.user.id)).map((c) => c.id)).toEqual([certificateId]);
  });

  it('lists under my certificates', async () => {
    const mine = await ok(call<CertificateList>(node, 'GET', '/me/certificates', w.learner));
    expect(mine.data.map((c) => c.id)).toEqual([certificateId]);
    expect((await ok(call<CertificateList>(node, 'GET', '/me/certificates', w.teacher))).data).toEqual([]);
    expect((await call(node, 'GET', '/me/certificates', null)).status).toBe(401);
  });

  it('can be verified by anyone, signed in or not, and keeps the names it was issued with', async () => {
    await dbOf(node).updateTable('users').set({ display_name: 'Renamed Later' }).where('id', '=', w.learner.user.id).execute();
    const { certificate } = await ok(call<CertificateEnvelope>(node, 'GET', `/certificates/${certificateId}`, null));
    expect(certificate).toEqual({
      id: certificateId,
      courseId: w.courseId,
      recipientName: w.learner.user.displayName,
      courseTitle: 'Bread baking',
      issuerName: w.communityName,
      issuedAt: expect.any(String),
      verificationUrl: `http://localhost:3000/certificates/${certificateId}`,
    });
    expect((await call(node, 'GET', `/certificates/${crypto.randomUUID()}`, null)).status).toBe(404);
    expect((await call(node, 'GET', '/certificates/not-a-uuid', null)).status).toBe(400);
  });

  it('downloads as a PDF that names the recipient, the course, the issuer and the verification address', async () => {
    const res = await fetch(`${node.url}/api/v1/certificates/${certificateId}/pdf`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="certificate-bread-baking-${certificateId.slice(0, 8)}.pdf"`);
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = pdfText(pdf);
    expect(text).toContain(w.learner.user.displayName);
    expect(text).toContain('Bread baking');
    expect(text.some((line) => line.startsWith(`Issued by ${w.communityName} on `))).toBe(true);
    expect(text).toContain(`Verify at http://localhost:3000/certificates/${certificateId}`);
    expect((await fetch(`${node.url}/api/v1/certificates/${crypto.randomUUID()}/pdf`)).status).toBe(404);
  });
});
