import { sql } from 'kysely';
import type {
  AuthorLessonDto,
  CourseDto,
  EnrolmentDto,
  OutlineModuleDto,
  ReleaseInput,
} from '../../contracts/courses.ts';
import { uuids, type Db } from '../../orm/db.ts';
import { courseAuthoredBy, CoursePolicy, lessonAvailability, viewerId, type CourseAccess, type Enrolment, type Lesson, type Viewer } from '../access/course.ts';
import { entitledTo } from '../access/entitlement.ts';
import { assetDtos } from '../media/assets.ts';
import type { Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';

/*
 * How courses, outlines and lessons leave the server. The outline never carries a lesson's body, asset or quiz;
 * a lesson as a learner opens it is presented in lessons.ts, the author's form (answer keys included) here.
 */

const isoOrNull = (at: Date | null) => at?.toISOString() ?? null;

/** The courses among `ids` as `viewer` sees them, in the order of `ids` (set-based: a fixed number of statements). */
export async function loadCourseDtos(deps: Deps, q: Db, viewer: Viewer, ids: readonly string[]): Promise<CourseDto[]> {
  if (ids.length === 0) return [];
  const userId = viewerId(viewer);
  const rows = await q
    .selectFrom('courses as k')
    .innerJoin('users as o', 'o.id', 'k.owner_id')
    .selectAll('k')
    .select((eb) => [
      'o.display_name as owner_name',
      eb.selectFrom('course_modules as m').select(sql<number>`count(*)::int`.as('n')).whereRef('m.course_id', '=', 'k.id').as('module_count'),
      eb.selectFrom('course_lessons as l').select(sql<number>`count(*)::int`.as('n')).whereRef('l.course_id', '=', 'k.id').as('lesson_count'),
      eb.selectFrom('course_enrolments as ce').select(sql<number>`count(*)::int`.as('n')).whereRef('ce.course_id', '=', 'k.id').as('enrolled_count'),
      sql<boolean>`${courseAuthoredBy(viewer)}`.as('author'),
      eb
        .selectFrom('course_instructors as mi')
        .select('mi.role')
        .whereRef('mi.course_id', '=', 'k.id')
        .where('mi.user_id', '=', userId)
        .as('instructor_role'),
      eb
        .exists(eb.selectFrom('course_enrolments as me').select(sql.lit(1).as('one')).whereRef('me.course_id', '=', 'k.id').where('me.user_id', '=', userId))
        .$castTo<boolean>()
        .as('enrolled'),
      sql<boolean>`${entitledTo(userId, 'course', eb.ref('k.id'))}`.as('entitled'),
    ])
    .where('k.id', '=', (eb) => eb.fn.any(uuids(ids)))
    .execute();
  const instructors = await q
    .selectFrom('course_instructors as ci')
    .innerJoin('users as u', 'u.id', 'ci.user_id')
    .select(['ci.course_id', 'ci.role', 'u.id', 'u.display_name'])
    .where('ci.course_id', '=', (eb) => eb.fn.any(uuids(ids)))
    .orderBy(sql`ci.role = 'owner'`, 'desc')
    .orderBy('ci.added_at')
    .orderBy('u.id')
    .execute();
  const covers = await assetDtos(
    deps,
    q,
    rows.flatMap((r) => (r.cover_asset_id ? [r.cover_asset_id] : [])),
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    if (!row) return [];
    const author = viewer !== null && row.author;
    const member = author || row.enrolled;
    return [
      {
        id: row.id,
        communityId: row.community_id,
        title: row.title,
        summary: row.summary,
        description: row.description,
        level: row.level,
        tags: row.tags,
        language: row.language,
        priceMinor: row.price_minor,
        currency: row.currency,
        cover: (row.cover_asset_id && covers.get(row.cover_asset_id)) || null,
        status: row.status,
        publishedAt: isoOrNull(row.published_at),
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
        owner: { id: row.owner_id, displayName: row.owner_name },
        instructors: instructors
          .filter((i) => i.course_id === id)
          .map((i) => ({ user: { id: i.id, displayName: i.display_name }, role: i.role })),
        moduleCount: row.module_count ?? 0,
        lessonCount: row.lesson_count ?? 0,
        enrolledCount: row.enrolled_count ?? 0,
        channelId: member ? row.channel_id : null,
        me: viewer && {
          author,
          instructorRole: row.instructor_role,
          enrolled: row.enrolled,
          canLearn: author || row.entitled,
        },
      } satisfies CourseDto,
    ];
  });
}

export async function loadCourseDto(deps: Deps, q: Db, viewer: Viewer, courseId: string): Promise<CourseDto> {
  const [dto] = await loadCourseDtos(deps, q, viewer, [courseId]);
  if (!dto) throw new AppError('not_found', 'No such course.');
  return dto;
}

export function presentRelease(lesson: Pick<Lesson, 'release_type' | 'release_days' | 'release_at'>): ReleaseInput {
  if (lesson.release_type === 'afterEnrolment') return { type: 'afterEnrolment', days: lesson.release_days ?? 0 };
  if (lesson.release_type === 'onDate') return { type: 'onDate', at: lesson.release_at!.toISOString() };
  return { type: 'immediate' };
}

/** The columns a release writes. */
export function releaseColumns(release: ReleaseInput) {
  return {
    release_type: release.type,
    release_days: release.type === 'afterEnrolment' ? release.days : null,
    release_at: release.type === 'onDate' ? new Date(release.at) : null,
  };
}

/** May the viewer open this lesson at all (before drip release is considered)? */
export const mayOpenLesson = (viewer: Viewer, access: CourseAccess, lesson: Pick<Lesson, 'preview'>) =>
  CoursePolicy.learn(viewer, access) || lesson.preview;

/** The course's modules and lessons in order, with the viewer's locks, release dates and completions. */
export async function loadOutline(q: Db, viewer: Viewer, access: CourseAccess, now: Date): Promise<OutlineModuleDto[]> {
  const courseId = access.course.id;
  const modules = await q
    .selectFrom('course_modules')
    .select(['id', 'title'])
    .where('course_id', '=', courseId)
    .orderBy('position')
    .orderBy('created_at')
    .execute();
  const lessons = await q
    .selectFrom('course_lessons as l')
    .leftJoin('lesson_progress as p', (join) => join.onRef('p.lesson_id', '=', 'l.id').on('p.user_id', '=', viewerId(viewer)))
    .select([
      'l.id',
      'l.module_id',
      'l.title',
      'l.kind',
      'l.duration_minutes',
      'l.preview',
      'l.required',
      'l.release_type',
      'l.release_days',
      'l.release_at',
      'p.completed_at',
    ])
    .where('l.course_id', '=', courseId)
    .orderBy('l.position')
    .orderBy('l.created_at')
    .execute();
  const author = CoursePolicy.author(viewer, access);
  const enrolledAt = access.enrolment?.enrolled_at ?? null;
  return modules.map((module) => ({
    id: module.id,
    title: module.title,
    lessons: lessons
      .filter((l) => l.module_id === module.id)
      .map((l) => {
        const availability = lessonAvailability(l, enrolledAt, now);
        return {
          id: l.id,
          title: l.title,
          kind: l.kind,
          durationMinutes: l.duration_minutes,
          preview: l.preview,
          required: l.required,
          release: presentRelease(l),
          locked: !author && (!mayOpenLesson(viewer, access, l) || !availability.open),
          availableAt: isoOrNull(availability.availableAt),
          completed: l.completed_at !== null,
        };
      }),
  }));
}

export function presentAuthorLesson(lesson: Lesson): AuthorLessonDto {
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
    body: lesson.body,
    assetId: lesson.asset_id,
    classroomId: lesson.classroom_id,
    quiz: lesson.quiz,
    updatedAt: lesson.updated_at.toISOString(),
  };
}

/** Enrolments of `courseId` for `userIds`, with names. */
export async function loadEnrolmentDto(q: Db, courseId: string, userId: string): Promise<EnrolmentDto | null> {
  const row = await q
    .selectFrom('course_enrolments as e')
    .innerJoin('users as u', 'u.id', 'e.user_id')
    .selectAll('e')
    .select('u.display_name')
    .where('e.course_id', '=', courseId)
    .where('e.user_id', '=', userId)
    .executeTakeFirst();
  return row ? presentEnrolment(row, row.display_name) : null;
}

export function presentEnrolment(e: Enrolment, displayName: string): EnrolmentDto {
  return {
    courseId: e.course_id,
    user: { id: e.user_id, displayName },
    enrolledAt: e.enrolled_at.toISOString(),
    lastActivityAt: e.last_activity_at.toISOString(),
    lastLessonId: e.last_lesson_id,
    completedAt: isoOrNull(e.completed_at),
  };
}
