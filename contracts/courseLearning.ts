import { z } from 'zod';
import { UserRef } from './communities.ts';
import { AssetDto } from './media.ts';

/** Quizzes, assignments, certificates and instructor analytics of courses (wire shapes for REST and sockets). */

/** The pass mark of a quiz or assignment lesson that sets none. */
export const DEFAULT_PASS_PERCENT = 70;
export const MAX_SUBMISSION_ASSETS = 10;
export const MAX_SUBMISSION_TEXT = 20_000;

// ------------------------------------------------------------------ quizzes

export const QuizAnswerInput = z.strictObject({
  questionId: z.string().min(1).max(100),
  /** Chosen option indexes (single and multiple choice questions). */
  choice: z.array(z.number().int().min(0).max(100)).max(100).optional(),
  /** The answer to a short-answer question. */
  text: z.string().max(1000).optional(),
});
export type QuizAnswerInput = z.infer<typeof QuizAnswerInput>;

export const SubmitAttemptInput = z
  .strictObject({ answers: z.array(QuizAnswerInput).max(200) })
  .refine((v) => new Set(v.answers.map((a) => a.questionId)).size === v.answers.length, {
    message: 'Answer each question at most once.',
    path: ['answers'],
  })
  .describe('SubmitAttemptInput');
export type SubmitAttemptInput = z.infer<typeof SubmitAttemptInput>;

/** The key of one question: the correct option indexes (choice questions) or the accepted answers (short answer). */
export const CorrectAnswerDto = z.object({ choice: z.array(z.number().int()), accepted: z.array(z.string()) }).describe('CorrectAnswer');
export type CorrectAnswerDto = z.infer<typeof CorrectAnswerDto>;

export const QuestionResultDto = z
  .object({
    questionId: z.string(),
    correct: z.boolean(),
    /**
     * Revealed only once the learner can no longer use it to pass: after a passing attempt, or when no attempts are
     * left. Until then null (every attempt says which questions were right, never what the right answer was).
     */
    correctAnswer: CorrectAnswerDto.nullable(),
  })
  .describe('QuestionResult');
export type QuestionResultDto = z.infer<typeof QuestionResultDto>;

export const QuizAttemptDto = z
  .object({
    attemptNo: z.number().int().positive(),
    /** Share of questions answered correctly, rounded down (0–100). */
    scorePercent: z.number().int().min(0).max(100),
    passed: z.boolean(),
    results: z.array(QuestionResultDto),
    submittedAt: z.iso.datetime(),
  })
  .describe('QuizAttempt');
export type QuizAttemptDto = z.infer<typeof QuizAttemptDto>;

/** Where the learner stands on a quiz: what pass mark it has, how many attempts remain, whether keys are revealed. */
const QuizStanding = {
  passPercent: z.number().int().min(0).max(100),
  /** null: unlimited. */
  attemptsLeft: z.number().int().min(0).nullable(),
  passed: z.boolean(),
  answersRevealed: z.boolean(),
};

export const AttemptEnvelope = z.object({ attempt: QuizAttemptDto, ...QuizStanding }).describe('AttemptEnvelope');
export type AttemptEnvelope = z.infer<typeof AttemptEnvelope>;
export const AttemptList = z.object({ data: z.array(QuizAttemptDto), ...QuizStanding }).describe('AttemptList');
export type AttemptList = z.infer<typeof AttemptList>;

// ------------------------------------------------------------------ assignments

export const SUBMISSION_STATUSES = ['submitted', 'graded'] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

export const SubmitAssignmentInput = z
  .strictObject({
    text: z.string().trim().max(MAX_SUBMISSION_TEXT).default(''),
    assetIds: z.array(z.uuid()).max(MAX_SUBMISSION_ASSETS).default([]),
  })
  .refine((v) => v.text.length > 0 || v.assetIds.length > 0, { message: 'Write something or attach a file.', path: ['text'] })
  .refine((v) => new Set(v.assetIds).size === v.assetIds.length, { message: 'Attach each file once.', path: ['assetIds'] })
  .describe('SubmitAssignmentInput');
export type SubmitAssignmentInput = z.infer<typeof SubmitAssignmentInput>;

export const GradeSubmissionInput = z
  .strictObject({
    scorePercent: z.number().int().min(0).max(100),
    feedback: z.string().trim().max(MAX_SUBMISSION_TEXT).default(''),
  })
  .describe('GradeSubmissionInput');
export type GradeSubmissionInput = z.infer<typeof GradeSubmissionInput>;

export const SubmissionListQuery = z.strictObject({
  status: z.enum(SUBMISSION_STATUSES).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const SubmissionDto = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    lessonId: z.uuid(),
    lessonTitle: z.string(),
    learner: UserRef,
    text: z.string(),
    /** Signed, expiring URLs: only the course's authors and the submitter ever receive them. */
    assets: z.array(AssetDto),
    status: z.enum(SUBMISSION_STATUSES),
    scorePercent: z.number().int().nullable(),
    passed: z.boolean().nullable(),
    feedback: z.string().nullable(),
    gradedBy: UserRef.nullable(),
    gradedAt: z.iso.datetime().nullable(),
    submittedAt: z.iso.datetime(),
  })
  .describe('Submission');
export type SubmissionDto = z.infer<typeof SubmissionDto>;
export const SubmissionEnvelope = z.object({ submission: SubmissionDto }).describe('SubmissionEnvelope');
export type SubmissionEnvelope = z.infer<typeof SubmissionEnvelope>;
export const SubmissionList = z.object({ data: z.array(SubmissionDto) }).describe('SubmissionList');
export type SubmissionList = z.infer<typeof SubmissionList>;
export const SubmissionPage = z.object({ data: z.array(SubmissionDto), nextCursor: z.string().nullable() }).describe('SubmissionPage');
export type SubmissionPage = z.infer<typeof SubmissionPage>;

/** What the learner hears live when their work is graded (on each of their devices). */
export const SubmissionGradedEvent = z
  .object({
    submissionId: z.uuid(),
    courseId: z.uuid(),
    lessonId: z.uuid(),
    scorePercent: z.number().int(),
    passed: z.boolean(),
    feedback: z.string(),
    gradedAt: z.iso.datetime(),
  })
  .describe('SubmissionGradedEvent');
export type SubmissionGradedEvent = z.infer<typeof SubmissionGradedEvent>;

// ------------------------------------------------------------------ certificates

/** What anyone holding the id may check: the certificate as issued (names and titles copied at the time). */
export const CertificateDto = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    recipientName: z.string(),
    courseTitle: z.string(),
    issuerName: z.string(),
    issuedAt: z.iso.datetime(),
    /** The public page where it can be verified. */
    verificationUrl: z.string(),
  })
  .describe('Certificate');
export type CertificateDto = z.infer<typeof CertificateDto>;
export const CertificateEnvelope = z.object({ certificate: CertificateDto }).describe('CertificateEnvelope');
export type CertificateEnvelope = z.infer<typeof CertificateEnvelope>;
export const CertificateList = z.object({ data: z.array(CertificateDto) }).describe('CertificateList');
export type CertificateList = z.infer<typeof CertificateList>;

export const CertificateIssuedEvent = z
  .object({ certificateId: z.uuid(), courseId: z.uuid(), courseTitle: z.string(), issuedAt: z.iso.datetime() })
  .describe('CertificateIssuedEvent');
export type CertificateIssuedEvent = z.infer<typeof CertificateIssuedEvent>;

// ------------------------------------------------------------------ analytics

export const CourseAnalyticsDto = z
  .object({
    courseId: z.uuid(),
    enrolled: z.number().int(),
    /** Learners who earned the course's certificate. */
    completed: z.number().int(),
    /** The last 30 days on the server's clock (UTC days), oldest first, days without enrolments included. */
    enrolmentsPerDay: z.array(z.object({ day: z.iso.date(), count: z.number().int() })),
    /** Every lesson in outline order (the funnel); completionRate is the share of enrolled learners, 0–100. */
    lessons: z.array(z.object({ lessonId: z.uuid(), title: z.string(), completed: z.number().int(), completionRate: z.number() })),
    /**
     * Quiz lessons in outline order. averageScore over every attempt (null without attempts); passRate is the share of
     * learners who attempted it that passed it, 0–100.
     */
    quizzes: z.array(
      z.object({
        lessonId: z.uuid(),
        title: z.string(),
        attempts: z.number().int(),
        learners: z.number().int(),
        averageScore: z.number().nullable(),
        passRate: z.number(),
      }),
    ),
    /**
     * Every lesson in outline order: learners who have not completed the course and whose most recent completion is
     * this lesson (learners who completed nothing yet are in no row).
     */
    dropOff: z.array(z.object({ lessonId: z.uuid(), title: z.string(), learnersStoppedHere: z.number().int() })),
  })
  .describe('CourseAnalytics');
export type CourseAnalyticsDto = z.infer<typeof CourseAnalyticsDto>;

/** Live events of graded work and certificates, sent to the learner's own room (`rooms.user`). */
export interface CourseLearningServerEvents {
  'submission:graded': (event: SubmissionGradedEvent) => void;
  'certificate:issued': (event: CertificateIssuedEvent) => void;
}
