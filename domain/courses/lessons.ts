import type { AuthorLessonDto, LessonDto } from '../../contracts/courses.ts';
import { db, type Db } from '../../orm/db.ts';
import { checkCourseAccess, CoursePolicy, lessonAvailability, loadLessonAccess, type Lesson, type Viewer } from '../access/course.ts';
import { renderMarkdown } from '../content/markdown.ts';
import { assetDtos } from '../media/assets.ts';
import type { Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { mayOpenLesson, presentAuthorLesson, presentRelease } from './presenters.ts';
import { learnerQuiz } from './quizDefinition.ts';

/*
 * Opening a lesson. Learners entitled to the course open every lesson once released (drip: days after their
 * enrolment, or a date, on the domain clock); anyone who may see the course opens its `preview` lessons; authors open
 * everything, and with `edit` get the lesson as written, answer keys included. A learner's lesson carries the body
 * rendered to sanitised HTML, the file with a signed URL, the linked class — and a quiz WITHOUT its answer keys.
 */

export type OpenedLesson = { lesson: LessonDto } | { authorLesson: AuthorLessonDto };

export async function openLesson(deps: Deps, viewer: Viewer, lessonId: string, options: { edit?: boolean } = {}): Promise<OpenedLesson> {
  const q = db(deps.orm.em.fork());
  const now = deps.clock.now();
  const loaded = await loadLessonAccess(q, viewer, lessonId);
  if (!loaded) throw new AppError('not_found', 'No such lesson.');
  const { course, lesson } = loaded;
  if (options.edit) {
    checkCourseAccess(viewer, course, 'author');
    return { authorLesson: presentAuthorLesson(lesson) };
  }
  checkCourseAccess(viewer, course, 'view');
  const author = CoursePolicy.author(viewer, course);
  if (!mayOpenLesson(viewer, course, lesson)) checkCourseAccess(viewer, course, 'learn');
  const availability = lessonAvailability(lesson, course.enrolment?.enrolled_at ?? null, now);
  if (!author && !availability.open) {
    const at = availability.availableAt;
    throw new AppError('forbidden', at ? `This lesson opens at ${at.toISOString()}.` : 'This lesson opens some days after you enrol.', {
      details: { availableAt: at?.toISOString() ?? null },
    });
  }
  return { lesson: await presentLesson(deps, q, viewer, lesson, availability.availableAt) };
}

async function presentLesson(deps: Deps, q: Db, viewer: Viewer, lesson: Lesson, availableAt: Date | null): Promise<LessonDto> {
  const assets = lesson.asset_id ? await assetDtos(deps, q, [lesson.asset_id], { download: lesson.kind === 'file' }) : new Map();
  const classroom = lesson.classroom_id
    ? await q
        .selectFrom('classrooms')
        .select(['id', 'title', 'starts_at', 'duration_minutes', 'status'])
        .where('id', '=', lesson.classroom_id)
        .executeTakeFirst()
    : undefined;
  const progress = viewer
    ? await q
        .selectFrom('lesson_progress')
        .select(['completed_at', 'position_seconds'])
        .where('lesson_id', '=', lesson.id)
        .where('user_id', '=', viewer.userId)
        .executeTakeFirst()
    : undefined;
  return {
    id: lesson.id,
    courseId: lesson.course_id,
    moduleId: lesson.module_id,
    title: lesson.title,
    kind: lesson.kind,
    durationMinutes: lesson.duration_minutes,
    preview: lesson.preview,
    required: lesson.required,
    release: presentRelease(lesson),
    position: lesson.position,
    passPercent: lesson.pass_percent,
    maxAttempts: lesson.max_attempts,
    html: renderMarkdown(lesson.body, { profile: 'lesson' }),
    asset: (lesson.asset_id && assets.get(lesson.asset_id)) || null,
    classroom: classroom
      ? {
          id: classroom.id,
          title: classroom.title,
          startsAt: classroom.starts_at.toISOString(),
          durationMinutes: classroom.duration_minutes,
          status: classroom.status,
        }
      : null,
    quiz: lesson.quiz ? learnerQuiz(lesson.quiz) : null,
    availableAt: availableAt?.toISOString() ?? null,
    completed: progress?.completed_at != null,
    positionSeconds: progress?.position_seconds ?? 0,
  };
}
