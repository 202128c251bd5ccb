import { z } from 'zod';
import type {
  GradeSubmissionInput,
  SubmissionDto,
  SubmissionPage,
  SubmissionStatus,
  SubmitAssignmentInput,
} from '../../contracts/courseLearning.ts';
import type { AssetDto } from '../../contracts/media.ts';
import { db, type Db } from '../../orm/db.ts';
import { authorizeCourse, authorizeLesson, lessonAvailability } from '../access/course.ts';
import { decodeCursor, encodeCursor } from '../communities/cursor.ts';
import { assetDtos, attachAssets } from '../media/assets.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import './learningEvents.ts';
import { announceProgress, completeLessonInTx } from './progress.ts';
import { passPercentOf } from './quizzes.ts';

/*
 * Assignment submissions. A learner who may open the lesson hands in text and files (their own uploads, attached to
 * the submission); the course's authors read them (files through signed URLs, which only they and the submitter ever
 * receive) and grade them. A grade at or above the lesson's pass mark completes the lesson and may earn the
 * certificate; re-grading is allowed and announced again, but never takes back a completion or a certificate. Each
 * hand-in is a new submission (the history stays); once one passed, the assignment is done and more are refused.
 */

/** The submissions of one statement, presented with their files (one assetDtos call for the whole page). */
async function loadSubmissions(deps: Deps, q: Db, filter: (query: SubmissionQuery) => SubmissionQuery): Promise<SubmissionDto[]> {
  const rows = await filter(submissionQuery(q)).orderBy('s.created_at').orderBy('s.id').execute();
  const assetIds = [...new Set(rows.flatMap((r) => r.asset_ids))];
  const assets: Map<string, AssetDto> = await assetDtos(deps, q, assetIds);
  return rows.map(
    (r): SubmissionDto => ({
      id: r.id,
      courseId: r.course_id,
      lessonId: r.lesson_id,
      lessonTitle: r.lesson_title,
      learner: { id: r.user_id, displayName: r.learner_name },
      text: r.text,
      assets: r.asset_ids.flatMap((id) => assets.get(id) ?? []),
      status: r.status,
      scorePercent: r.score_percent,
      passed: r.passed,
      feedback: r.feedback,
      gradedBy: r.graded_by_id && r.grader_name !== null ? { id: r.graded_by_id, displayName: r.grader_name } : null,
      gradedAt: r.graded_at?.toISOString() ?? null,
      submittedAt: r.created_at.toISOString(),
    }),
  );
}

type SubmissionQuery = ReturnType<typeof submissionQuery>;

function submissionQuery(q: Db) {
  return q
    .selectFrom('assignment_submissions as s')
    .innerJoin('course_lessons as l', 'l.id', 's.lesson_id')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .leftJoin('users as g', 'g.id', 's.graded_by_id')
    .selectAll('s')
    .select(['l.title as lesson_title', 'u.display_name as learner_name', 'g.display_name as grader_name']);
}

async function loadSubmission(deps: Deps, q: Db, id: string): Promise<SubmissionDto> {
  const [submission] = await loadSubmissions(deps, q, (query) => query.where('s.id', '=', id));
  if (!submission) throw new AppError('not_found', 'No such submission.');
  return submission;
}

/** The assignment lesson, for a learner who may open it now: entitled, enrolled and released (drip). */
async function authorizeAssignment(q: Db, actor: Actor, lessonId: string, now: Date) {
  const { course, lesson } = await authorizeLesson(q, actor, lessonId, 'learn');
  if (lesson.kind !== 'assignment') throw new AppError('not_found', 'This lesson is not an assignment.');
  if (!course.enrolment) throw new AppError('forbidden', 'Enrol in this course to hand in its assignments.');
  const { open, availableAt } = lessonAvailability(lesson, course.enrolment.enrolled_at, now);
  if (!open) {
    throw new AppError('forbidden', availableAt ? `This lesson opens on ${availableAt.toISOString()}.` : 'This lesson is not open yet.', {
      details: { availableAt: availableAt?.toISOString() ?? null },
    });
  }
  return { course, lesson };
}

export async function submitAssignment(deps: Deps, actor: Actor, lessonId: string, input: SubmitAssignmentInput): Promise<SubmissionDto> {
  const now = deps.clock.now();
  return deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { lesson } = await authorizeAssignment(q, actor, lessonId, now);
    // One hand-in at a time per learner (the "already passed" check below must not race a grade).
    await q
      .selectFrom('course_enrolments')
      .select('user_id')
      .where('course_id', '=', lesson.course_id)
      .where('user_id', '=', actor.userId)
      .forUpdate()
      .execute();
    const passed = await q
      .selectFrom('assignment_submissions')
      .select('id')
      .where('lesson_id', '=', lessonId)
      .where('user_id', '=', actor.userId)
      .where('passed', '=', true)
      .executeTakeFirst();
    if (passed) throw new AppError('conflict', 'This assignment is already graded at a pass.');
    const id = crypto.randomUUID();
    if (input.assetIds.length) await attachAssets(deps, q, { ownerId: actor.userId, assetIds: input.assetIds, at: now });
    await q
      .insertInto('assignment_submissions')
      .values({
        id,
        lesson_id: lessonId,
        course_id: lesson.course_id,
        user_id: actor.userId,
        text: input.text,
        asset_ids: input.assetIds,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return loadSubmission(deps, q, id);
  });
}

/** My submissions of one assignment, oldest first. */
export async function listMySubmissions(deps: Deps, actor: Actor, lessonId: string): Promise<SubmissionDto[]> {
  const q = db(deps.orm.em.fork());
  const { lesson } = await authorizeLesson(q, actor, lessonId, 'learn');
  if (lesson.kind !== 'assignment') throw new AppError('not_found', 'This lesson is not an assignment.');
  return loadSubmissions(deps, q, (query) => query.where('s.lesson_id', '=', lessonId).where('s.user_id', '=', actor.userId));
}

const SubmissionCursor = z.tuple([z.iso.datetime(), z.uuid()]);

/** The course's submissions for its authors, oldest first (the grading queue), optionally by status. */
export async function listCourseSubmissions(
  deps: Deps,
  actor: Actor,
  courseId: string,
  query: { status?: SubmissionStatus | undefined; cursor?: string | undefined; limit: number },
): Promise<SubmissionPage> {
  const q = db(deps.orm.em.fork());
  await authorizeCourse(q, actor, courseId, 'author');
  const after = decodeCursor(SubmissionCursor, query.cursor);
  const page = await loadSubmissions(deps, q, (rows) => {
    let filtered = rows.where('s.course_id', '=', courseId).limit(query.limit + 1);
    if (query.status) filtered = filtered.where('s.status', '=', query.status);
    if (after) filtered = filtered.where((eb) => eb(eb.refTuple('s.created_at', 's.id'), '>', eb.tuple(new Date(after[0]), after[1])));
    return filtered;
  });
  const more = page.length > query.limit;
  const data = more ? page.slice(0, query.limit) : page;
  const last = data.at(-1);
  return { data, nextCursor: more && last ? encodeCursor([last.submittedAt, last.id]) : null };
}

/**
 * Grades (or re-grades) a submission: the course's authors. A pass completes the lesson for the learner and may issue
 * the certificate, in the same transaction; the learner hears `submission:graded` (and progress) after the commit.
 */
export async function gradeSubmission(deps: Deps, actor: Actor, submissionId: string, input: GradeSubmissionInput): Promise<SubmissionDto> {
  const now = deps.clock.now();
  const { dto, progress, learnerId } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const found = await q
      .selectFrom('assignment_submissions as s')
      .innerJoin('course_lessons as l', 'l.id', 's.lesson_id')
      .select(['s.id', 's.course_id', 's.lesson_id', 's.user_id', 'l.pass_percent'])
      .where('s.id', '=', submissionId)
      .executeTakeFirst();
    if (!found) throw new AppError('not_found', 'No such submission.');
    await authorizeCourse(q, actor, found.course_id, 'author');
    const passed = input.scorePercent >= passPercentOf(found);
    await q
      .updateTable('assignment_submissions')
      .set({
        status: 'graded',
        score_percent: input.scorePercent,
        passed,
        feedback: input.feedback,
        graded_by_id: actor.userId,
        graded_at: now,
        updated_at: now,
      })
      .where('id', '=', submissionId)
      .execute();
    let progress = null;
    if (passed) {
      // Completes the lesson and issues the certificate if this was the last requirement.
      progress = await completeLessonInTx(deps, tx, { courseId: found.course_id, lessonId: found.lesson_id, userId: found.user_id, at: now });
    }
    return { dto: await loadSubmission(deps, q, submissionId), progress, learnerId: found.user_id };
  });
  await deps.events.emit('submission.graded', {
    learnerId,
    submissionId,
    courseId: dto.courseId,
    lessonId: dto.lessonId,
    scorePercent: input.scorePercent,
    passed: dto.passed ?? false,
    feedback: dto.feedback ?? '',
    gradedAt: now.toISOString(),
  });
  if (progress?.changed) await announceProgress(deps, learnerId, progress.progress, dto.lessonId);
  return dto;
}
