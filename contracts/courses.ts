import { z } from 'zod';
import { UserRef } from './communities.ts';
import { AssetDto } from './media.ts';
import { COURSE_LEVELS } from './values/courses.ts';

/** Courses: authoring, catalogue, enrolment, lessons, progress (wire shapes for REST and sockets). */

export { COURSE_LEVELS, type CourseLevel } from './values/courses.ts';
export const COURSE_STATUSES = ['draft', 'published', 'unpublished'] as const;
export type CourseStatus = (typeof COURSE_STATUSES)[number];
export const LESSON_KINDS = ['text', 'video', 'file', 'quiz', 'assignment', 'live'] as const;
export type LessonKind = (typeof LESSON_KINDS)[number];
export const QUESTION_KINDS = ['single', 'multiple', 'short'] as const;
export const INSTRUCTOR_ROLES = ['owner', 'instructor'] as const;
export const QUIZ_MAX_QUESTIONS = 100;
export const QUIZ_MAX_OPTIONS = 12;

// ---------------------------------------------------------------- authoring input

const title = z.string().trim().min(3, 'Title needs at least 3 characters.').max(200);
const summary = z.string().trim().max(500);
const description = z.string().trim().max(20_000);
const tags = z
  .array(z.string().trim().toLowerCase().min(1).max(40))
  .max(20, 'At most 20 tags.')
  .transform((list) => [...new Set(list)]);
const language = z
  .string()
  .trim()
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'A language tag such as en or pt-BR.');
/** Paid courses open with commerce; until then a priced course is listed but cannot be enrolled in. */
const priceMinor = z.number().int().min(0).max(100_000_000);
const currency = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z]{3}$/, 'An ISO 4217 code such as EUR.');

export const CreateCourseInput = z
  .strictObject({
    title,
    summary: summary.default(''),
    description: description.default(''),
    level: z.enum(COURSE_LEVELS),
    tags: tags.default([]),
    language: language.default('en'),
    communityId: z.uuid().optional(),
    priceMinor: priceMinor.default(0),
    currency: currency.optional(),
    coverAssetId: z.uuid().optional(),
  })
  .refine((v) => v.priceMinor === 0 || v.currency !== undefined, { message: 'A priced course needs a currency.', path: ['currency'] })
  .describe('CreateCourseInput');
export type CreateCourseInput = z.infer<typeof CreateCourseInput>;

export const UpdateCourseInput = z
  .strictObject({
    title: title.optional(),
    summary: summary.optional(),
    description: description.optional(),
    level: z.enum(COURSE_LEVELS).optional(),
    tags: tags.optional(),
    language: language.optional(),
    priceMinor: priceMinor.optional(),
    currency: currency.nullable().optional(),
    /** null removes the cover. */
    coverAssetId: z.uuid().nullable().optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), 'Change at least one field.')
  .describe('UpdateCourseInput');
export type UpdateCourseInput = z.infer<typeof UpdateCourseInput>;

export const InstructorInput = z.strictObject({ userId: z.uuid() }).describe('InstructorInput');
export const GrantEnrolmentInput = z.strictObject({ userId: z.uuid() }).describe('GrantEnrolmentInput');

export const ModuleInput = z.strictObject({ title }).describe('ModuleInput');
export type ModuleInput = z.infer<typeof ModuleInput>;

/** When a lesson opens: at once, some days after the learner enrolled (drip), or on a date. */
export const ReleaseInput = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('immediate') }),
    z.strictObject({ type: z.literal('afterEnrolment'), days: z.number().int().min(0).max(3650) }),
    z.strictObject({ type: z.literal('onDate'), at: z.iso.datetime({ offset: true }) }),
  ])
  .describe('Release');
export type ReleaseInput = z.infer<typeof ReleaseInput>;

const choice = z.string().trim().min(1, 'Options cannot be empty.').max(300);
const optionIndexes = z.array(z.number().int().min(0).max(QUIZ_MAX_OPTIONS - 1));

/** One question as an author writes it, answer keys included. */
export const QuestionInput = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('single'),
      prompt: z.string().trim().min(1).max(2000),
      options: z.array(choice).min(2, 'A question needs at least 2 options.').max(QUIZ_MAX_OPTIONS),
      correct: optionIndexes.length(1, 'A single-choice question has exactly one correct option.'),
    }),
    z.strictObject({
      kind: z.literal('multiple'),
      prompt: z.string().trim().min(1).max(2000),
      options: z.array(choice).min(2, 'A question needs at least 2 options.').max(QUIZ_MAX_OPTIONS),
      correct: optionIndexes.min(1, 'Mark at least one correct option.'),
    }),
    z.strictObject({
      kind: z.literal('short'),
      prompt: z.string().trim().min(1).max(2000),
      accepted: z.array(z.string().trim().min(1).max(200)).min(1, 'Give at least one accepted answer.').max(20),
    }),
  ])
  .refine((q) => q.kind === 'short' || q.correct.every((i) => i < q.options.length), 'A correct option is not among the options.')
  .refine((q) => q.kind === 'short' || new Set(q.correct).size === q.correct.length, 'A correct option is listed twice.')
  .refine((q) => q.kind === 'short' || new Set(q.options.map((o) => o.toLowerCase())).size === q.options.length, 'Options must differ.');
export type QuestionInput = z.infer<typeof QuestionInput>;

export const QuizInput = z
  .strictObject({ questions: z.array(QuestionInput).min(1, 'A quiz needs a question.').max(QUIZ_MAX_QUESTIONS) })
  .describe('QuizInput');
export type QuizInput = z.infer<typeof QuizInput>;

const lessonBody = z.string().max(100_000);
const durationMinutes = z.number().int().min(0).max(10_000);

export const CreateLessonInput = z
  .strictObject({
    title,
    kind: z.enum(LESSON_KINDS),
    /** Markdown. */
    body: lessonBody.default(''),
    assetId: z.uuid().optional(),
    /** A live lesson: a class of the course's community that the author may manage. */
    classroomId: z.uuid().optional(),
    durationMinutes: durationMinutes.optional(),
    preview: z.boolean().default(false),
    release: ReleaseInput.default({ type: 'immediate' }),
    /** Counts towards progress and the certificate. */
    required: z.boolean().default(true),
    quiz: QuizInput.optional(),
    passPercent: z.number().int().min(0).max(100).optional(),
    maxAttempts: z.number().int().min(1).max(100).optional(),
  })
  .describe('CreateLessonInput');
export type CreateLessonInput = z.infer<typeof CreateLessonInput>;

export const UpdateLessonInput = z
  .strictObject({
    title: title.optional(),
    body: lessonBody.optional(),
    /** null detaches. */
    assetId: z.uuid().nullable().optional(),
    classroomId: z.uuid().nullable().optional(),
    durationMinutes: durationMinutes.nullable().optional(),
    preview: z.boolean().optional(),
    release: ReleaseInput.optional(),
    required: z.boolean().optional(),
    quiz: QuizInput.optional(),
    passPercent: z.number().int().min(0).max(100).nullable().optional(),
    maxAttempts: z.number().int().min(1).max(100).nullable().optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), 'Change at least one field.')
  .describe('UpdateLessonInput');
export type UpdateLessonInput = z.infer<typeof UpdateLessonInput>;

/** Every module of the course in its new order, each with every one of its lessons in order (lessons may move). */
export const OutlineInput = z
  .strictObject({
    modules: z.array(z.strictObject({ id: z.uuid(), lessonIds: z.array(z.uuid()).max(1000) })).max(500),
  })
  .describe('OutlineInput');
export type OutlineInput = z.infer<typeof OutlineInput>;

export const ListCoursesQuery = z.strictObject({
  communityId: z.uuid().optional(),
  level: z.enum(COURSE_LEVELS).optional(),
  tag: z.string().trim().toLowerCase().min(1).max(40).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type ListCoursesQuery = z.infer<typeof ListCoursesQuery>;

/** `?edit=1`: authors get the lesson as written (answer keys included) instead of as a learner sees it. */
export const LessonQuery = z.strictObject({ edit: z.enum(['1', 'true']).optional() });

export const PositionInput = z.strictObject({ seconds: z.number().int().min(0).max(10_000_000) }).describe('PositionInput');

// ---------------------------------------------------------------- responses

export const InstructorDto = z.object({ user: UserRef, role: z.enum(INSTRUCTOR_ROLES) });
export type InstructorDto = z.infer<typeof InstructorDto>;

/** Where the caller stands with the course. */
export const CourseStandingDto = z.object({
  /** May edit, publish, grade (instructors, the community's owners and admins, platform admins). */
  author: z.boolean(),
  instructorRole: z.enum(INSTRUCTOR_ROLES).nullable(),
  enrolled: z.boolean(),
  /** May open the lessons (an active entitlement, or an author). */
  canLearn: z.boolean(),
});

export const CourseDto = z
  .object({
    id: z.uuid(),
    communityId: z.uuid().nullable(),
    title: z.string(),
    summary: z.string(),
    /** Markdown as written. */
    description: z.string(),
    level: z.enum(COURSE_LEVELS),
    tags: z.array(z.string()),
    language: z.string(),
    priceMinor: z.number().int(),
    currency: z.string().nullable(),
    cover: AssetDto.nullable(),
    status: z.enum(COURSE_STATUSES),
    publishedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    owner: UserRef,
    instructors: z.array(InstructorDto),
    moduleCount: z.number().int(),
    lessonCount: z.number().int(),
    enrolledCount: z.number().int(),
    /** The course's discussion (a chat channel): for enrolled learners and authors, else null. */
    channelId: z.uuid().nullable(),
    me: CourseStandingDto.nullable(),
  })
  .describe('Course');
export type CourseDto = z.infer<typeof CourseDto>;

export const CourseEnvelope = z.object({ course: CourseDto }).describe('CourseEnvelope');
export type CourseEnvelope = z.infer<typeof CourseEnvelope>;
export const CoursePage = z.object({ data: z.array(CourseDto), nextCursor: z.string().nullable() }).describe('CoursePage');
export type CoursePage = z.infer<typeof CoursePage>;

export const ReleaseDto = ReleaseInput;

/** A lesson as listed in the outline: never its body, asset or quiz. */
export const OutlineLessonDto = z.object({
  id: z.uuid(),
  title: z.string(),
  kind: z.enum(LESSON_KINDS),
  durationMinutes: z.number().int().nullable(),
  preview: z.boolean(),
  required: z.boolean(),
  release: ReleaseDto,
  /** Closed to the caller now: not entitled (and not a preview), or not released yet. Authors see nothing locked. */
  locked: z.boolean(),
  /** When it opens (or opened) for the caller under drip release; null when immediate or not known yet. */
  availableAt: z.iso.datetime().nullable(),
  completed: z.boolean(),
});
export type OutlineLessonDto = z.infer<typeof OutlineLessonDto>;

export const OutlineModuleDto = z.object({ id: z.uuid(), title: z.string(), lessons: z.array(OutlineLessonDto) });
export type OutlineModuleDto = z.infer<typeof OutlineModuleDto>;
export const OutlineEnvelope = z.object({ modules: z.array(OutlineModuleDto) }).describe('Outline');
export type OutlineEnvelope = z.infer<typeof OutlineEnvelope>;

export const EnrolmentDto = z
  .object({
    courseId: z.uuid(),
    user: UserRef,
    enrolledAt: z.iso.datetime(),
    lastActivityAt: z.iso.datetime(),
    lastLessonId: z.uuid().nullable(),
    completedAt: z.iso.datetime().nullable(),
  })
  .describe('Enrolment');
export type EnrolmentDto = z.infer<typeof EnrolmentDto>;

export const ProgressDto = z
  .object({
    courseId: z.uuid(),
    completedLessonIds: z.array(z.uuid()),
    /** Completed required lessons over required lessons, 0–100. */
    percent: z.number().int().min(0).max(100),
    lastLessonId: z.uuid().nullable(),
  })
  .describe('Progress');
export type ProgressDto = z.infer<typeof ProgressDto>;

/** The course page: the course, its outline, and the caller's enrolment and progress (null when not enrolled). */
export const CourseDetailDto = z
  .object({
    course: CourseDto,
    modules: z.array(OutlineModuleDto),
    enrolment: EnrolmentDto.nullable(),
    progress: ProgressDto.nullable(),
  })
  .describe('CourseDetail');
export type CourseDetailDto = z.infer<typeof CourseDetailDto>;

export const EnrolmentEnvelope = z.object({ enrolment: EnrolmentDto, course: CourseDto }).describe('EnrolmentEnvelope');
export type EnrolmentEnvelope = z.infer<typeof EnrolmentEnvelope>;

export const MyCourseDto = z
  .object({
    course: CourseDto,
    enrolment: EnrolmentDto,
    percent: z.number().int().min(0).max(100),
    /** The lesson to continue with: the first open, uncompleted lesson after the last one opened; null when done. */
    continueLesson: z.object({ id: z.uuid(), title: z.string() }).nullable(),
  })
  .describe('MyCourse');
export type MyCourseDto = z.infer<typeof MyCourseDto>;
export const MyCourseList = z.object({ data: z.array(MyCourseDto) }).describe('MyCourseList');
export type MyCourseList = z.infer<typeof MyCourseList>;

export const ModuleDto = z.object({ id: z.uuid(), courseId: z.uuid(), title: z.string(), position: z.number().int() }).describe('Module');
export type ModuleDto = z.infer<typeof ModuleDto>;
export const ModuleEnvelope = z.object({ module: ModuleDto }).describe('ModuleEnvelope');
export type ModuleEnvelope = z.infer<typeof ModuleEnvelope>;

/** A stored question with its answer keys (authors only). */
export const AuthorQuestionDto = z.object({
  id: z.string(),
  kind: z.enum(QUESTION_KINDS),
  prompt: z.string(),
  options: z.array(z.string()),
  correct: z.array(z.number().int()),
  accepted: z.array(z.string()),
});
/** A question as a learner sees it: no answer keys. */
export const QuestionDto = z.object({ id: z.string(), kind: z.enum(QUESTION_KINDS), prompt: z.string(), options: z.array(z.string()) });
export type QuestionDto = z.infer<typeof QuestionDto>;

const lessonFields = {
  id: z.uuid(),
  courseId: z.uuid(),
  moduleId: z.uuid(),
  title: z.string(),
  kind: z.enum(LESSON_KINDS),
  durationMinutes: z.number().int().nullable(),
  preview: z.boolean(),
  required: z.boolean(),
  release: ReleaseDto,
  position: z.number().int(),
  passPercent: z.number().int().nullable(),
  maxAttempts: z.number().int().nullable(),
};

/** A lesson as its authors write it: markdown source, asset and classroom ids, the quiz with its keys. */
export const AuthorLessonDto = z
  .object({
    ...lessonFields,
    body: z.string(),
    assetId: z.uuid().nullable(),
    classroomId: z.uuid().nullable(),
    quiz: z.object({ questions: z.array(AuthorQuestionDto) }).nullable(),
    updatedAt: z.iso.datetime(),
  })
  .describe('AuthorLesson');
export type AuthorLessonDto = z.infer<typeof AuthorLessonDto>;
export const AuthorLessonEnvelope = z.object({ lesson: AuthorLessonDto }).describe('AuthorLessonEnvelope');
export type AuthorLessonEnvelope = z.infer<typeof AuthorLessonEnvelope>;

/** The live class a `live` lesson points at. */
export const LessonClassroomDto = z.object({
  id: z.uuid(),
  title: z.string(),
  startsAt: z.iso.datetime(),
  durationMinutes: z.number().int(),
  status: z.enum(['scheduled', 'live', 'ended', 'cancelled']),
});

/** A lesson as a learner opens it: rendered HTML, a signed asset URL, the quiz without its keys. */
export const LessonDto = z
  .object({
    ...lessonFields,
    /** Sanitised HTML rendered from the markdown body. */
    html: z.string(),
    asset: AssetDto.nullable(),
    classroom: LessonClassroomDto.nullable(),
    quiz: z.object({ questions: z.array(QuestionDto) }).nullable(),
    availableAt: z.iso.datetime().nullable(),
    completed: z.boolean(),
    /** Where the learner left a video, in seconds. */
    positionSeconds: z.number().int(),
  })
  .describe('Lesson');
export type LessonDto = z.infer<typeof LessonDto>;

/** `GET /lessons/:id` answers one of these: `lesson` for learners, `authorLesson` with ?edit=1. */
export const LessonEnvelope = z
  .union([z.object({ lesson: LessonDto }), z.object({ authorLesson: AuthorLessonDto })])
  .describe('LessonEnvelope');
export type LessonEnvelope = z.infer<typeof LessonEnvelope>;

export const PositionDto = z.object({ lessonId: z.uuid(), seconds: z.number().int(), progress: ProgressDto }).describe('Position');
export type PositionDto = z.infer<typeof PositionDto>;

export const CompletionDto = z
  .object({
    /** False when the lesson was already complete (nothing changed). */
    changed: z.boolean(),
    progress: ProgressDto,
    /** The certificate issued by this completion, if it finished the course. */
    certificateId: z.uuid().nullable(),
  })
  .describe('Completion');
export type CompletionDto = z.infer<typeof CompletionDto>;

// ---------------------------------------------------------------- live events

export const ProgressUpdatedEvent = ProgressDto;
export type ProgressUpdatedEvent = z.infer<typeof ProgressUpdatedEvent>;

/** Live course events, sent to the learner's own room (`rooms.user`) so their other devices follow along. */
export interface CourseServerEvents {
  'progress:updated': (event: ProgressUpdatedEvent) => void;
}
