import { IdParam } from '../../contracts/communities.ts';
import {
  AttemptEnvelope,
  AttemptList,
  CertificateEnvelope,
  CertificateList,
  CourseAnalyticsDto,
  GradeSubmissionInput,
  SubmissionEnvelope,
  SubmissionList,
  SubmissionListQuery,
  SubmissionPage,
  SubmitAssignmentInput,
  SubmitAttemptInput,
} from '../../contracts/courseLearning.ts';
import { courseAnalytics } from '../../domain/courses/analytics.ts';
import { gradeSubmission, listCourseSubmissions, listMySubmissions, submitAssignment } from '../../domain/courses/assignments.ts';
import { certificateFileName, renderCertificatePdf } from '../../domain/courses/certificatePdf.ts';
import { getCertificate, listMyCertificates, presentCertificate } from '../../domain/courses/certificates.ts';
import { listMyAttempts, submitAttempt } from '../../domain/courses/quizzes.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import { rawBody, type RouteKit } from '../routeKit.ts';

const tags = ['courses'];

/** Quiz attempts, assignment submissions and grading, certificates and instructor analytics. */
export function courseLearningRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'post',
      path: '/lessons/:id/attempts',
      summary: 'Submit an attempt at a quiz lesson (enrolled learners, once it is open); a pass completes the lesson',
      tags,
      auth: true,
      params: IdParam,
      body: SubmitAttemptInput,
      responses: { 201: { description: 'Scored; right answers shown once passed or out of attempts', schema: AttemptEnvelope } },
    },
    (ctx, { params, body }) => submitAttempt(deps, actorOf(ctx), params.id, body),
  );

  route(
    {
      method: 'get',
      path: '/lessons/:id/attempts',
      summary: 'My attempts at a quiz lesson, first to last, with the attempts I have left',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'My attempts', schema: AttemptList } },
    },
    (ctx, { params }) => listMyAttempts(deps, actorOf(ctx), params.id),
  );

  route(
    {
      method: 'post',
      path: '/lessons/:id/submissions',
      summary: 'Hand in an assignment: text and my own uploads (POST /assets first)',
      tags,
      auth: true,
      params: IdParam,
      body: SubmitAssignmentInput,
      responses: { 201: { description: 'Handed in, waiting for a grade', schema: SubmissionEnvelope } },
    },
    async (ctx, { params, body }) => ({ submission: await submitAssignment(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'get',
      path: '/lessons/:id/submissions',
      summary: 'My submissions of an assignment lesson, oldest first, with grades and feedback',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'My submissions', schema: SubmissionList } },
    },
    async (ctx, { params }) => ({ data: await listMySubmissions(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'get',
      path: '/courses/:id/submissions',
      summary: "The course's submissions, oldest first (authors: instructors, community owners and admins)",
      tags,
      auth: true,
      params: IdParam,
      query: SubmissionListQuery,
      responses: { 200: { description: 'A page of submissions', schema: SubmissionPage } },
    },
    (ctx, { params, query }) => listCourseSubmissions(deps, actorOf(ctx), params.id, query),
  );

  route(
    {
      method: 'post',
      path: '/submissions/:id/grade',
      summary: 'Grade or re-grade a submission (authors); at the pass mark it completes the lesson. The learner hears submission:graded',
      tags,
      auth: true,
      params: IdParam,
      body: GradeSubmissionInput,
      responses: { 200: { description: 'Graded', schema: SubmissionEnvelope } },
    },
    async (ctx, { params, body }) => ({ submission: await gradeSubmission(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'get',
      path: '/courses/:id/analytics',
      summary: 'Enrolments per day, the lesson funnel, quiz results and drop-off (authors)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Analytics', schema: CourseAnalyticsDto } },
    },
    (ctx, { params }) => courseAnalytics(deps, actorOf(ctx), params.id),
  );

  route(
    {
      method: 'get',
      path: '/me/certificates',
      summary: 'My certificates, newest first',
      tags,
      auth: true,
      responses: { 200: { description: 'My certificates', schema: CertificateList } },
    },
    async (ctx) => ({ data: await listMyCertificates(deps, actorOf(ctx)) }),
  );

  route(
    {
      method: 'get',
      path: '/certificates/:id',
      summary: 'Verify a certificate: public, no sign-in (the id is the proof the recipient shares)',
      tags,
      auth: false,
      params: IdParam,
      responses: { 200: { description: 'The certificate as issued', schema: CertificateEnvelope } },
    },
    async (_ctx, { params }) => ({ certificate: presentCertificate(deps, await getCertificate(deps, params.id)) }),
  );

  route(
    {
      method: 'get',
      path: '/certificates/:id/pdf',
      summary: 'The certificate as a PDF download: public, like its verification',
      tags,
      auth: false,
      params: IdParam,
      responses: { 200: { description: 'The PDF', raw: 'application/pdf' } },
    },
    async (_ctx, { params }) => {
      const certificate = presentCertificate(deps, await getCertificate(deps, params.id));
      const pdf = await renderCertificatePdf(certificate);
      return rawBody({ type: 'application/pdf', body: pdf, filename: certificateFileName(certificate) });
    },
  );
}
