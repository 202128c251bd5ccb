import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './auth.ts';
import { Channel } from './chat.ts';
import { Classroom } from './classrooms.ts';
import { Community } from './communities.ts';
import { Asset } from './media.ts';

/**
 * Courses: modules and lessons (with drip release), instructors, enrolments, progress, quiz attempts, assignment
 * submissions and certificates. A course's discussion is a chat channel of kind `course`.
 */

/** A quiz as stored, answer keys included; presenters strip the keys before anything reaches a learner. */
export interface StoredQuiz {
  questions: Array<{
    id: string;
    kind: 'single' | 'multiple' | 'short';
    prompt: string;
    /** Choices of single/multiple questions. */
    options: string[];
    /** Indexes of the correct options (single: exactly one). */
    correct: number[];
    /** Accepted short answers, compared case- and accent-insensitively after trimming. */
    accepted: string[];
  }>;
}

export const Course = defineEntity({
  name: 'Course',
  tableName: 'courses',
  indexes: [
    {
      name: 'courses_catalogue_idx',
      where: 'status = \'published\'',
      properties: ['publishedAt', 'id'],
      columns: [
        { name: 'published_at', sort: 'DESC' },
        { name: 'id', sort: 'DESC' },
      ],
    },
    { name: 'courses_community_idx', properties: ['community'] },
    { name: 'courses_tags_idx', properties: ['tags'], type: 'gin' },
  ],
  checks: [
    { name: 'courses_price_minor_check', expression: 'price_minor >= 0' },
    { name: 'courses_check', expression: '(price_minor = 0) OR (currency IS NOT NULL)' },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    community: () => p.manyToOne(Community).deleteRule('cascade').nullable(),
    owner: () => p.manyToOne(User).deleteRule('cascade'),
    channel: () => p.oneToOne(Channel).owner().deleteRule('restrict').unique('courses_channel_unique'),
    title: p.string().length(200),
    summary: p.string().length(500).default(''),
    description: p.text().default(''),
    level: p.enum(['beginner', 'intermediate', 'advanced']).columnType('varchar(16)'),
    tags: p.array().default([]),
    language: p.string().length(16).default('en'),
    priceMinor: p.integer().default(0),
    currency: p.string().length(3).nullable(),
    coverAsset: () => p.manyToOne(Asset).nullable(),
    status: p.enum(['draft', 'published', 'unpublished']).default('draft').columnType('varchar(16)'),
    publishedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ICourse = InferEntity<typeof Course>;

export const CourseInstructor = defineEntity({
  name: 'CourseInstructor',
  tableName: 'course_instructors',
  primaryKeys: ['course', 'user'],
  properties: {
    course: () => p.manyToOne(Course).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade').index('course_instructors_user_idx'),
    role: p.enum(['owner', 'instructor']).default('instructor').columnType('varchar(16)'),
    addedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ICourseInstructor = InferEntity<typeof CourseInstructor>;

export const CourseModule = defineEntity({
  name: 'CourseModule',
  tableName: 'course_modules',
  indexes: [{ name: 'course_modules_course_idx', properties: ['course', 'position'] }],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    course: () => p.manyToOne(Course).deleteRule('cascade'),
    title: p.string().length(200),
    position: p.integer(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ICourseModule = InferEntity<typeof CourseModule>;

export const CourseLesson = defineEntity({
  name: 'CourseLesson',
  tableName: 'course_lessons',
  indexes: [
    { name: 'course_lessons_module_idx', properties: ['module', 'position'] },
    { name: 'course_lessons_course_idx', properties: ['course'] },
  ],
  checks: [
    { name: 'course_lessons_duration_minutes_check', expression: '(duration_minutes IS NULL) OR (duration_minutes >= 0)' },
    { name: 'course_lessons_release_days_check', expression: '(release_days IS NULL) OR (release_days >= 0)' },
    {
      name: 'course_lessons_pass_percent_check',
      expression: '(pass_percent IS NULL) OR ((pass_percent >= 0) AND (pass_percent <= 100))',
    },
    { name: 'course_lessons_max_attempts_check', expression: '(max_attempts IS NULL) OR (max_attempts > 0)' },
    {
      name: 'course_lessons_check',
      expression: '((release_type)::text = \'afterEnrolment\'::text) = (release_days IS NOT NULL)',
    },
    {
      name: 'course_lessons_check1',
      expression: '((release_type)::text = \'onDate\'::text) = (release_at IS NOT NULL)',
    },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    course: () => p.manyToOne(Course).deleteRule('cascade'),
    module: () => p.manyToOne(CourseModule).deleteRule('cascade'),
    title: p.string().length(200),
    kind: p.enum(['text', 'video', 'file', 'quiz', 'assignment', 'live']).columnType('varchar(16)'),
    body: p.text().default(''),
    asset: () => p.manyToOne(Asset).nullable(),
    classroom: () => p.manyToOne(Classroom).nullable(),
    durationMinutes: p.integer().nullable(),
    preview: p.boolean().default(false),
    required: p.boolean().default(true),
    releaseType: p.enum(['immediate', 'afterEnrolment', 'onDate']).default('immediate').columnType('varchar(16)'),
    releaseDays: p.integer().nullable(),
    releaseAt: p.datetime().nullable(),
    quiz: p.json<StoredQuiz>().nullable(),
    passPercent: p.integer().nullable(),
    maxAttempts: p.integer().nullable(),
    position: p.integer(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ICourseLesson = InferEntity<typeof CourseLesson>;

export const CourseEnrolment = defineEntity({
  name: 'CourseEnrolment',
  tableName: 'course_enrolments',
  primaryKeys: ['course', 'user'],
  indexes: [
    {
      name: 'course_enrolments_user_idx',
      properties: ['user', 'lastActivityAt'],
      columns: [{ name: 'user_id' }, { name: 'last_activity_at', sort: 'DESC' }],
    },
    { name: 'course_enrolments_course_day_idx', properties: ['course', 'enrolledAt'] },
  ],
  properties: {
    course: () => p.manyToOne(Course).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    enrolledAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    lastLesson: () => p.manyToOne(CourseLesson).nullable(),
    lastActivityAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    completedAt: p.datetime().nullable(),
  },
});
export type ICourseEnrolment = InferEntity<typeof CourseEnrolment>;

export const LessonProgress = defineEntity({
  name: 'LessonProgress',
  tableName: 'lesson_progress',
  primaryKeys: ['lesson', 'user'],
  indexes: [{ name: 'lesson_progress_course_user_idx', properties: ['course', 'user'] }],
  checks: [{ name: 'lesson_progress_position_seconds_check', expression: 'position_seconds >= 0' }],
  properties: {
    lesson: () => p.manyToOne(CourseLesson).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    course: () => p.manyToOne(Course).deleteRule('cascade'),
    positionSeconds: p.integer().default(0),
    completedAt: p.datetime().nullable(),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ILessonProgress = InferEntity<typeof LessonProgress>;

export const QuizAttempt = defineEntity({
  name: 'QuizAttempt',
  tableName: 'quiz_attempts',
  uniques: [{ name: 'quiz_attempts_number_unique', properties: ['lesson', 'user', 'attemptNo'] }],
  indexes: [{ name: 'quiz_attempts_course_idx', properties: ['course', 'user'] }],
  checks: [
    { name: 'quiz_attempts_attempt_no_check', expression: 'attempt_no > 0' },
    { name: 'quiz_attempts_score_percent_check', expression: '(score_percent >= 0) AND (score_percent <= 100)' },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    lesson: () => p.manyToOne(CourseLesson).deleteRule('cascade'),
    course: () => p.manyToOne(Course).deleteRule('cascade'),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    attemptNo: p.integer(),
    answers: p.json<unknown>(),
    results: p.json<unknown>(),
    scorePercent: p.integer(),
    passed: p.boolean(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IQuizAttempt = InferEntity<typeof QuizAttempt>;

export const AssignmentSubmission = defineEntity({
  name: 'AssignmentSubmission',
  tableName: 'assignment_submissions',
  indexes: [
    { name: 'assignment_submissions_course_idx', properties: ['course', 'status', 'createdAt'] },
    {
      name: 'assignment_submissions_learner_idx',
      properties: ['lesson', 'user', 'createdAt'],
      columns: [{ name: 'lesson_id' }, { name: 'user_id' }, { name: 'created_at', sort: 'DESC' }],
    },
  ],
  checks: [
    {
      name: 'assignment_submissions_score_percent_check',
      expression: '(score_percent IS NULL) OR ((score_percent >= 0) AND (score_percent <= 100))',
    },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    lesson: () => p.manyToOne(CourseLesson).deleteRule('cascade'),
    course: () => p.manyToOne(Course).deleteRule('cascade'),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    text: p.text().default(''),
    assetIds: p.array().columnType('uuid[]').default([]),
    status: p.enum(['submitted', 'graded']).default('submitted').columnType('varchar(16)'),
    scorePercent: p.integer().nullable(),
    passed: p.boolean().nullable(),
    feedback: p.text().nullable(),
    gradedBy: () => p.manyToOne(User).nullable(),
    gradedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IAssignmentSubmission = InferEntity<typeof AssignmentSubmission>;

/** What the certificate said when it was issued: names and titles are copied, so a later rename never rewrites it. */
export const Certificate = defineEntity({
  name: 'Certificate',
  tableName: 'certificates',
  uniques: [{ name: 'certificates_course_user_unique', properties: ['course', 'user'] }],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    course: () => p.manyToOne(Course).deleteRule('cascade'),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    recipientName: p.string().length(120),
    courseTitle: p.string().length(200),
    issuerName: p.string().length(200),
    issuedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ICertificate = InferEntity<typeof Certificate>;
