import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import type { CompletionDto, PositionDto, ProgressDto, ProgressUpdatedEvent } from '../../contracts/courses.ts';
import { db, type Db } from '../../orm/db.ts';
import { authorizeCourse, authorizeLesson, lessonAvailability, type CourseAccess, type Lesson } from '../access/course.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { issueCertificateIfEarned } from './certificates.ts';
import './events.ts';

/*
 * A learner's progress: completed lessons, where a video was left, the last lesson opened. Percent counts required
 * lessons only. Every change announces `progress.updated` after commit, so the learner's other devices follow along.
 *
 * Quiz and assignment lessons complete when passed: the code that grades them (quizzes.ts, assignments.ts) calls
 * `completeLessonInTx` inside its own transaction and `announceProgress` after its commit.
 */

/** The learner's progress in one course, as it stands in the transaction `q` runs in. */
export async function loadProgress(q: Db, courseId: string, userId: string): Promise<ProgressDto> {
  const completed = await q
    .selectFrom('lesson_progress as p')
    .innerJoin('course_lessons as l', 'l.id', 'p.lesson_id')
    .innerJoin('course_modules as m', 'm.id', 'l.module_id')
    .select(['p.lesson_id', 'l.required'])
    .where('p.course_id', '=', courseId)
    .where('p.user_id', '=', userId)
    .where('p.completed_at', 'is not', null)
    // In outline order, so every device lists them alike.
    .orderBy('m.position')
    .orderBy('m.created_at')
    .orderBy('l.position')
    .orderBy('l.created_at')
    .execute();
  const counts = await q
    .selectFrom('course_lessons')
    .select(sql<number>`count(*)::int`.as('required'))
    .where('course_id', '=', courseId)
    .where('required', '=', true)
    .executeTakeFirstOrThrow();
  const enrolment = await q
    .selectFrom('course_enrolments')
    .select('last_lesson_id')
    .where('course_id', '=', courseId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return {
    courseId,
    completedLessonIds: completed.map((c) => c.lesson_id),
    percent: percentOf(completed.filter((c) => c.required).length, counts.required),
    lastLessonId: enrolment?.last_lesson_id ?? null,
  };
}

/** Whole percent, rounded down: 100 only when every required lesson is done. */
export const percentOf = (done: number, required: number) => (required === 0 ? 0 : Math.min(100, Math.floor((done * 100) / required)));

/**
 * Marks a lesson complete for `userId` inside the caller's transaction (idempotent: `changed` is false when it already
 * was), makes it the enrolment's last lesson, and issues the certificate when this met the course's last requirement.
 * The enrolment row is locked first, in the same order as issueCertificateIfEarned, so two completions of one learner
 * run one after the other. The caller checks who may complete what; call `announceProgress` after the commit.
 */
export async function completeLessonInTx(
  deps: Deps,
  tx: EntityManager,
  input: { courseId: string; lessonId: string; userId: string; at: Date },
): Promise<{ changed: boolean; progress: ProgressUpdatedEvent; certificate: { id: string } | null }> {
  const q = db(tx);
  const { courseId, lessonId, userId, at } = input;
  await q.selectFrom('course_enrolments').select('user_id').where('course_id', '=', courseId).where('user_id', '=', userId).forUpdate().execute();
  const marked = await q
    .insertInto('lesson_progress')
    .values({ lesson_id: lessonId, user_id: userId, course_id: courseId, completed_at: at, updated_at: at })
    .onConflict((oc) =>
      oc
        .columns(['lesson_id', 'user_id'])
        .doUpdateSet({ completed_at: at, updated_at: at })
        .where('lesson_progress.completed_at', 'is', null),
    )
    .returning('lesson_id')
    .executeTakeFirst();
  await touchEnrolment(q, courseId, userId, lessonId, at);
  const certificate = await issueCertificateIfEarned(deps, tx, { courseId, userId, at });
  return { changed: marked !== undefined, progress: await loadProgress(q, courseId, userId), certificate };
}

/** The lesson the learner was last in, and when they were last active. */
async function touchEnrolment(q: Db, courseId: string, userId: string, lessonId: string, at: Date): Promise<void> {
  await q
    .updateTable('course_enrolments')
    .set({ last_lesson_id: lessonId, last_activity_at: at })
    .where('course_id', '=', courseId)
    .where('user_id', '=', userId)
    .execute();
}

/**
 * After commit: tells the learner's devices (`progress:updated`). With `completedLessonId`, also announces
 * `lesson.completed` first.
 */
export async function announceProgress(deps: Deps, userId: string, progress: ProgressUpdatedEvent, completedLessonId?: string): Promise<void> {
  if (completedLessonId) await deps.events.emit('lesson.completed', { courseId: progress.courseId, lessonId: completedLessonId, userId });
  await deps.events.emit('progress.updated', { userId, progress });
}

/** A lesson the caller may work in now: entitled (or an author) and released; throws otherwise. */
function assertOpen(access: CourseAccess, lesson: Lesson, now: Date): void {
  const { open, availableAt } = lessonAvailability(lesson, access.enrolment?.enrolled_at ?? null, now);
  if (open) return;
  throw new AppError('forbidden', availableAt ? `This lesson opens at ${availableAt.toISOString()}.` : 'This lesson opens after you enrol.', {
    details: { availableAt: availableAt?.toISOString() ?? null },
  });
}

/**
 * Marks a lesson read (learners entitled to the course). Quizzes and assignments complete when passed, so they are
 * refused here. Completing twice changes nothing and announces nothing.
 */
export async function completeLesson(deps: Deps, actor: Actor, lessonId: string): Promise<CompletionDto> {
  const now = deps.clock.now();
  const result = await deps.orm.em.fork().transactional(async (tx) => {
    const { course, lesson } = await authorizeLesson(db(tx), actor, lessonId, 'learn');
    if (!course.enrolment) throw new AppError('forbidden', 'Enrol in this course to record progress.');
    assertOpen(course, lesson, now);
    if (lesson.kind === 'quiz' || lesson.kind === 'assignment') {
      throw new AppError('conflict', `A ${lesson.kind} lesson completes when you pass it.`);
    }
    return completeLessonInTx(deps, tx, { courseId: lesson.course_id, lessonId, userId: actor.userId, at: now });
  });
  if (result.changed) await announceProgress(deps, actor.userId, result.progress, lessonId);
  return { changed: result.changed, progress: result.progress, certificateId: result.certificate?.id ?? null };
}

/** Where the learner left a video (or any lesson): stored, and the lesson becomes the one to continue with. */
export async function savePosition(deps: Deps, actor: Actor, lessonId: string, seconds: number): Promise<PositionDto> {
  const now = deps.clock.now();
  const result = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { course, lesson } = await authorizeLesson(q, actor, lessonId, 'learn');
    if (!course.enrolment) throw new AppError('forbidden', 'Enrol in this course to record progress.');
    assertOpen(course, lesson, now);
    await q
      .insertInto('lesson_progress')
      .values({ lesson_id: lessonId, user_id: actor.userId, course_id: lesson.course_id, position_seconds: seconds, updated_at: now })
      .onConflict((oc) => oc.columns(['lesson_id', 'user_id']).doUpdateSet({ position_seconds: seconds, updated_at: now }))
      .execute();
    await touchEnrolment(q, lesson.course_id, actor.userId, lessonId, now);
    return { lastLessonBefore: course.enrolment.last_lesson_id, progress: await loadProgress(q, lesson.course_id, actor.userId) };
  });
  // A position alone changes nothing another device shows, unless the lesson to continue with moved.
  if (result.lastLessonBefore !== lessonId) await announceProgress(deps, actor.userId, result.progress);
  return { lessonId, seconds, progress: result.progress };
}

export async function getProgress(deps: Deps, actor: Actor, courseId: string): Promise<ProgressDto> {
  const q = db(deps.orm.em.fork());
  await authorizeCourse(q, actor, courseId, 'learn');
  return loadProgress(q, courseId, actor.userId);
}
