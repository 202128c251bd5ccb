import { randomBytes } from 'node:crypto';
import type {
  AuthorLessonDto,
  AuthorLessonEnvelope,
  CourseDto,
  CourseEnvelope,
  CreateCourseInput,
  CreateLessonInput,
  EnrolmentEnvelope,
  ModuleDto,
  ModuleEnvelope,
} from '../contracts/courses.ts';
import type { AssetKind } from '../contracts/media.ts';
import { withPlatformRole } from './classroomFactories.ts';
import { call, ok, registerUser, type TestUser } from './factories.ts';
import { dbOf, type RunningNode } from './nodes.ts';

/*
 * Courses for tests, built through the real API (so every rule applies): an author, a course, its modules and
 * lessons, publishing and enrolment. `publishedCourse` does it all in one call for tests that only need a course to
 * exist.
 */

/** What a test may set when creating a course (everything has a default). */
export type CourseOverrides = Partial<CreateCourseInput>;

/** A fresh account with the platform role `instructor` (may create courses outside communities). */
export async function registerInstructor(node: RunningNode): Promise<TestUser> {
  return withPlatformRole(node, await registerUser(node.url), 'instructor');
}

export async function createCourse(
  node: RunningNode,
  author: TestUser,
  overrides: CourseOverrides = {},
): Promise<CourseDto> {
  const body = { title: 'Statistics from scratch', summary: 'Means, medians and more.', level: 'beginner', ...overrides };
  return (await ok(call<CourseEnvelope>(node, 'POST', '/courses', author, body), 201)).course;
}

export async function addModule(node: RunningNode, author: TestUser, courseId: string, title = 'Getting started'): Promise<ModuleDto> {
  return (await ok(call<ModuleEnvelope>(node, 'POST', `/courses/${courseId}/modules`, author, { title }), 201)).module;
}

/** A lesson (a text lesson unless told), as its author sees it. */
export async function addLesson(
  node: RunningNode,
  author: TestUser,
  moduleId: string,
  overrides: Partial<Record<keyof CreateLessonInput, unknown>> = {},
): Promise<AuthorLessonDto> {
  const body = { title: 'What a mean is', kind: 'text', body: '# Means\n\nAdd them up and divide.', ...overrides };
  return (await ok(call<AuthorLessonEnvelope>(node, 'POST', `/modules/${moduleId}/lessons`, author, body), 201)).lesson;
}

export async function publish(node: RunningNode, author: TestUser, courseId: string): Promise<CourseDto> {
  return (await ok(call<CourseEnvelope>(node, 'POST', `/courses/${courseId}/publish`, author))).course;
}

/** Enrols `learner` (free course); fails unless enrolled now (201) or already (200). */
export async function enrol(node: RunningNode, learner: TestUser, courseId: string): Promise<EnrolmentEnvelope> {
  const res = await call<EnrolmentEnvelope>(node, 'POST', `/courses/${courseId}/enrol`, learner);
  if (res.status !== 201 && res.status !== 200) throw new Error(`enrol failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface PublishedCourse {
  author: TestUser;
  course: CourseDto;
  module: ModuleDto;
  lessons: AuthorLessonDto[];
}

/**
 * A published course with one module and `lessons` text lessons (2 unless told), written by `author` (a fresh
 * platform instructor unless given).
 */
export async function publishedCourse(
  node: RunningNode,
  options: { author?: TestUser; lessons?: number; course?: CourseOverrides } = {},
): Promise<PublishedCourse> {
  const author = options.author ?? (await registerInstructor(node));
  const course = await createCourse(node, author, options.course);
  const module = await addModule(node, author, course.id);
  const lessons: AuthorLessonDto[] = [];
  for (let i = 0; i < (options.lessons ?? 2); i++) lessons.push(await addLesson(node, author, module.id, { title: `Lesson ${i + 1}` }));
  return { author, course: await publish(node, author, course.id), module, lessons };
}

/** A ready upload of `owner`, straight in the database (the upload pipeline has its own tests). */
export async function seedAsset(node: RunningNode, owner: TestUser, kind: AssetKind = 'video'): Promise<string> {
  const id = crypto.randomUUID();
  const mime = { image: 'image/png', video: 'video/mp4', audio: 'audio/mpeg', pdf: 'application/pdf', epub: 'application/epub+zip', file: 'application/zip' }[kind];
  await dbOf(node)
    .insertInto('assets')
    .values({
      id,
      owner_id: owner.user.id,
      status: 'ready',
      kind,
      mime,
      byte_size: 1024,
      original_name: `${kind}-${randomBytes(3).toString('hex')}`,
      storage_key: `${id}/original`,
      ready_at: new Date(),
    })
    .execute();
  return id;
}
