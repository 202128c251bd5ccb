import { sql } from 'kysely';
import type { AssetKind } from '../../contracts/media.ts';
import type {
  AuthorLessonDto,
  CreateLessonInput,
  LessonKind,
  ModuleDto,
  ModuleInput,
  OutlineInput,
  OutlineModuleDto,
  UpdateLessonInput,
} from '../../contracts/courses.ts';
import { db, jsonb, type Db } from '../../orm/db.ts';
import type { StoredQuiz } from '../../orm/entities/courses.ts';
import { ClassroomPolicy, loadClassroomAccess } from '../access/classroom.ts';
import { authorizeCourse, authorizeLesson, type Course } from '../access/course.ts';
import { attachAssets } from '../media/assets.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import './events.ts';
import { loadOutline, presentAuthorLesson, releaseColumns } from './presenters.ts';
import { storeQuiz } from './quizDefinition.ts';

/*
 * A course's outline: modules, their lessons, and the order of both. Authors only; every change locks the course row,
 * so positions are allocated and reordered one change at a time, records `course.updated` in its transaction and
 * announces it after commit.
 */

const invalid = (field: string, message: string) => new AppError('invalid_input', message, { details: { fields: { [field]: message } } });

/** Which uploads each kind of lesson plays; null: any file; absent: the kind takes no asset. */
const LESSON_ASSET_KINDS: Partial<Record<LessonKind, readonly AssetKind[] | null>> = {
  video: ['video', 'audio'],
  file: null,
  text: ['image', 'pdf', 'file'],
  assignment: null,
};

async function loadModule(q: Db, actor: Actor, moduleId: string, options: { lock?: boolean } = {}) {
  const module = await q.selectFrom('course_modules').selectAll().where('id', '=', moduleId).executeTakeFirst();
  if (!module) throw new AppError('not_found', 'No such module.');
  const access = await authorizeCourse(q, actor, module.course_id, 'author', options);
  return { module, course: access.course };
}

const presentModule = (m: { id: string; course_id: string; title: string; position: number }): ModuleDto => ({
  id: m.id,
  courseId: m.course_id,
  title: m.title,
  position: m.position,
});

async function afterChange<T>(deps: Deps, courseId: string, result: T): Promise<T> {
  await deps.events.emit('course.updated', { courseId });
  return result;
}

export async function addModule(deps: Deps, actor: Actor, courseId: string, input: ModuleInput): Promise<ModuleDto> {
  const row = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    await authorizeCourse(q, actor, courseId, 'author', { lock: true });
    await deps.events.record(tx, 'course.updated', { courseId });
    return q
      .insertInto('course_modules')
      .values((eb) => ({
        id: crypto.randomUUID(),
        course_id: courseId,
        title: input.title,
        position: eb.selectFrom('course_modules').select(sql<number>`coalesce(max(position) + 1, 0)::int`.as('next')).where('course_id', '=', courseId),
        created_at: deps.clock.now(),
      }))
      .returningAll()
      .executeTakeFirstOrThrow();
  });
  return afterChange(deps, courseId, presentModule(row));
}

export async function renameModule(deps: Deps, actor: Actor, moduleId: string, input: ModuleInput): Promise<ModuleDto> {
  const row = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { course } = await loadModule(q, actor, moduleId, { lock: true });
    await deps.events.record(tx, 'course.updated', { courseId: course.id });
    return q.updateTable('course_modules').set({ title: input.title }).where('id', '=', moduleId).returningAll().executeTakeFirstOrThrow();
  });
  return afterChange(deps, row.course_id, presentModule(row));
}

/** Deletes a module with its lessons (and the learners' progress on them). A published course keeps a lesson. */
export async function deleteModule(deps: Deps, actor: Actor, moduleId: string): Promise<void> {
  const courseId = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { course } = await loadModule(q, actor, moduleId, { lock: true });
    await q.deleteFrom('course_modules').where('id', '=', moduleId).execute();
    await assertPublishedKeepsALesson(q, course);
    await deps.events.record(tx, 'course.updated', { courseId: course.id });
    return course.id;
  });
  await afterChange(deps, courseId, undefined);
}

async function assertPublishedKeepsALesson(q: Db, course: Course): Promise<void> {
  if (course.status !== 'published') return;
  const left = await q.selectFrom('course_lessons').select('id').where('course_id', '=', course.id).limit(1).executeTakeFirst();
  if (!left) throw new AppError('conflict', 'A published course keeps at least one lesson: unpublish it first.');
}

/** The lesson's fields after `input`, checked together (a lesson's kind decides what else it may carry). */
interface LessonShape {
  kind: LessonKind;
  assetId: string | null;
  classroomId: string | null;
  quiz: StoredQuiz | null;
  passPercent: number | null;
  maxAttempts: number | null;
}

function checkShape(shape: LessonShape): void {
  const assetKinds = LESSON_ASSET_KINDS[shape.kind];
  if (shape.assetId !== null && assetKinds === undefined) throw invalid('assetId', `A ${shape.kind} lesson takes no file.`);
  if (shape.kind === 'live' && shape.classroomId === null) throw invalid('classroomId', 'A live lesson links a class: give its classroomId.');
  if (shape.kind !== 'live' && shape.classroomId !== null) throw invalid('classroomId', 'Only live lessons link a class.');
  if (shape.kind === 'quiz' && shape.quiz === null) throw invalid('quiz', 'A quiz lesson needs its questions.');
  if (shape.kind !== 'quiz' && shape.quiz !== null) throw invalid('quiz', 'Only quiz lessons have questions.');
  if (shape.kind !== 'quiz' && shape.kind !== 'assignment' && shape.passPercent !== null) {
    throw invalid('passPercent', 'Only quizzes and assignments have a pass mark.');
  }
  if (shape.kind !== 'quiz' && shape.maxAttempts !== null) throw invalid('maxAttempts', 'Only quizzes have attempts.');
}

/** A live lesson links a class of the course's community that the author may manage. */
async function checkClassroom(q: Db, actor: Actor, course: Course, classroomId: string): Promise<void> {
  const access = await loadClassroomAccess(q, actor.userId, classroomId);
  if (!access || access.classroom.community_id !== course.community_id) {
    throw invalid('classroomId', 'No such class in this course\'s community.');
  }
  if (!ClassroomPolicy.manage(actor, access)) throw new AppError('forbidden', 'Only the host or a community admin can link this class.');
}

/** Attaches a lesson's new file (the author's own upload, of a kind the lesson plays). */
async function attachLessonAsset(deps: Deps, q: Db, actor: Actor, kind: LessonKind, assetId: string, at: Date): Promise<void> {
  const kinds = LESSON_ASSET_KINDS[kind];
  await attachAssets(deps, q, { ownerId: actor.userId, assetIds: [assetId], ...(kinds ? { kinds } : {}), at });
}

export async function addLesson(deps: Deps, actor: Actor, moduleId: string, input: CreateLessonInput): Promise<AuthorLessonDto> {
  const now = deps.clock.now();
  const lesson = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { course } = await loadModule(q, actor, moduleId, { lock: true });
    const quiz = input.quiz ? storeQuiz(input.quiz) : null;
    const shape: LessonShape = {
      kind: input.kind,
      assetId: input.assetId ?? null,
      classroomId: input.classroomId ?? null,
      quiz,
      passPercent: input.passPercent ?? null,
      maxAttempts: input.maxAttempts ?? null,
    };
    checkShape(shape);
    if (shape.classroomId) await checkClassroom(q, actor, course, shape.classroomId);
    if (shape.assetId) await attachLessonAsset(deps, q, actor, input.kind, shape.assetId, now);
    await deps.events.record(tx, 'course.updated', { courseId: course.id });
    return q
      .insertInto('course_lessons')
      .values((eb) => ({
        id: crypto.randomUUID(),
        course_id: course.id,
        module_id: moduleId,
        title: input.title,
        kind: input.kind,
        body: input.body,
        asset_id: shape.assetId,
        classroom_id: shape.classroomId,
        duration_minutes: input.durationMinutes ?? null,
        preview: input.preview,
        required: input.required,
        ...releaseColumns(input.release),
        quiz: quiz === null ? null : jsonb(quiz),
        pass_percent: shape.passPercent,
        max_attempts: shape.maxAttempts,
        position: eb.selectFrom('course_lessons').select(sql<number>`coalesce(max(position) + 1, 0)::int`.as('next')).where('module_id', '=', moduleId),
        created_at: now,
        updated_at: now,
      }))
      .returningAll()
      .executeTakeFirstOrThrow();
  });
  return afterChange(deps, lesson.course_id, presentAuthorLesson(lesson));
}

export async function updateLesson(deps: Deps, actor: Actor, lessonId: string, input: UpdateLessonInput): Promise<AuthorLessonDto> {
  const now = deps.clock.now();
  const lesson = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { course, lesson } = await authorizeLesson(q, actor, lessonId, 'author', { lock: true });
    const quiz = input.quiz ? storeQuiz(input.quiz, lesson.quiz) : lesson.quiz;
    const shape: LessonShape = {
      kind: lesson.kind,
      assetId: input.assetId === undefined ? lesson.asset_id : input.assetId,
      classroomId: input.classroomId === undefined ? lesson.classroom_id : input.classroomId,
      quiz,
      passPercent: input.passPercent === undefined ? lesson.pass_percent : input.passPercent,
      maxAttempts: input.maxAttempts === undefined ? lesson.max_attempts : input.maxAttempts,
    };
    checkShape(shape);
    if (shape.classroomId && shape.classroomId !== lesson.classroom_id) await checkClassroom(q, actor, course.course, shape.classroomId);
    if (shape.assetId && shape.assetId !== lesson.asset_id) await attachLessonAsset(deps, q, actor, lesson.kind, shape.assetId, now);
    await deps.events.record(tx, 'course.updated', { courseId: lesson.course_id });
    return q
      .updateTable('course_lessons')
      .set({
        title: input.title,
        body: input.body,
        asset_id: input.assetId,
        classroom_id: input.classroomId,
        duration_minutes: input.durationMinutes,
        preview: input.preview,
        required: input.required,
        ...(input.release ? releaseColumns(input.release) : {}),
        quiz: input.quiz ? jsonb(quiz) : undefined,
        pass_percent: input.passPercent,
        max_attempts: input.maxAttempts,
        updated_at: now,
      })
      .where('id', '=', lessonId)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
  return afterChange(deps, lesson.course_id, presentAuthorLesson(lesson));
}

/** Deletes a lesson with the learners' progress, attempts and submissions on it. */
export async function deleteLesson(deps: Deps, actor: Actor, lessonId: string): Promise<void> {
  const courseId = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { course } = await authorizeLesson(q, actor, lessonId, 'author', { lock: true });
    await q.deleteFrom('course_lessons').where('id', '=', lessonId).execute();
    await assertPublishedKeepsALesson(q, course.course);
    await deps.events.record(tx, 'course.updated', { courseId: course.course.id });
    return course.course.id;
  });
  await afterChange(deps, courseId, undefined);
}

/** The author's view of a lesson: as written, answer keys included. */
export async function getAuthorLesson(deps: Deps, actor: Actor, lessonId: string): Promise<AuthorLessonDto> {
  const { lesson } = await authorizeLesson(db(deps.orm.em.fork()), actor, lessonId, 'author');
  return presentAuthorLesson(lesson);
}

/**
 * Puts modules and lessons in the given order in one change; lessons may move between modules. The input must list
 * exactly the course's modules, and exactly its lessons once each — anything else is refused whole, so a client
 * working from a stale outline cannot drop or duplicate a lesson.
 */
export async function reorderOutline(deps: Deps, actor: Actor, courseId: string, input: OutlineInput): Promise<OutlineModuleDto[]> {
  const now = deps.clock.now();
  const outline = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const access = await authorizeCourse(q, actor, courseId, 'author', { lock: true });
    const modules = await q.selectFrom('course_modules').select('id').where('course_id', '=', courseId).execute();
    const lessons = await q.selectFrom('course_lessons').select('id').where('course_id', '=', courseId).execute();
    const givenModules = input.modules.map((m) => m.id);
    const givenLessons = input.modules.flatMap((m) => m.lessonIds);
    if (!sameSet(givenModules, modules.map((m) => m.id))) {
      throw invalid('modules', 'List every module of the course exactly once.');
    }
    if (!sameSet(givenLessons, lessons.map((l) => l.id))) {
      throw invalid('modules', 'List every lesson of the course exactly once, each under one module.');
    }
    const moduleRows = input.modules.map((m, position) => ({ id: m.id, position }));
    const lessonRows = input.modules.flatMap((m) => m.lessonIds.map((id, position) => ({ id, module_id: m.id, position })));
    if (moduleRows.length) {
      await sql`update course_modules as m set position = v.position
        from unnest(${moduleRows.map((r) => r.id)}::uuid[], ${moduleRows.map((r) => r.position)}::int[]) as v(id, position)
        where m.id = v.id`.execute(q);
    }
    if (lessonRows.length) {
      await sql`update course_lessons as l set module_id = v.module_id, position = v.position, updated_at = ${now}
        from unnest(${lessonRows.map((r) => r.id)}::uuid[], ${lessonRows.map((r) => r.module_id)}::uuid[], ${lessonRows.map((r) => r.position)}::int[])
          as v(id, module_id, position)
        where l.id = v.id and (l.module_id, l.position) is distinct from (v.module_id, v.position)`.execute(q);
    }
    await deps.events.record(tx, 'course.updated', { courseId });
    return loadOutline(q, actor, access, now);
  });
  return afterChange(deps, courseId, outline);
}

function sameSet(given: readonly string[], actual: readonly string[]): boolean {
  const set = new Set(given);
  return set.size === given.length && given.length === actual.length && actual.every((id) => set.has(id));
}

