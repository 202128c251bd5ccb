import { expressionBuilder, sql, type Expression, type QueryCreator, type Selectable, type SqlBool } from 'kysely';
import type { CommunityRole } from '../../contracts/communities.ts';
import type { DB } from '../../orm/db.ts';
import type { Actor } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { entitledTo } from './entitlement.ts';
import { queriesOf, type Queries } from './queries.ts';
import { isManagingRole, isPlatformAdmin, MANAGING_ROLES, mayCreateContent } from './roles.ts';

/*
 * Who may do what with a course. `CoursePolicy` decides for one loaded `CourseAccess` (REST, sockets and jobs call it);
 * `visibleCourseIds` is its view rule as a subquery for the catalogue and every list. course.test.ts builds every case
 * in a real database and proves the two agree.
 *
 * The rules:
 * - Authors: the course's instructors (owner and co-instructors), the owners and admins of the course's community, and
 *   platform admins. They see the course in every status and edit, publish, reorder, grade and read its analytics.
 * - Everyone else sees a course only while it is published, and only where its community is seen: a course without a
 *   community or of a public community is public (signed-out visitors included); one of a private community is for
 *   its members. Drafts and unpublished courses do not exist for learners (`not_found`).
 * - Learning (lesson bodies, progress, quizzes) needs an active entitlement (domain/access/entitlement.ts: a free
 *   enrolment, a staff grant, a paid order) — or being an author.
 * - A signed-out visitor is `null`: they may view, never act.
 */

/** A courses row. */
export type Course = Selectable<DB['courses']>;
/** A course_lessons row (quiz answer keys included: never hand it to a learner as is). */
export type Lesson = Selectable<DB['course_lessons']>;
export type Enrolment = Selectable<DB['course_enrolments']>;
export type InstructorRole = Selectable<DB['course_instructors']>['role'];
/** A signed-in actor, or null for a signed-out visitor of the catalogue. */
export type Viewer = Actor | null;

/** Everything CoursePolicy needs about one viewer and one course, loaded in one query. */
export interface CourseAccess {
  course: Course;
  /** Null when the course belongs to no community (then `communityRole` is null too). */
  communityVisibility: 'public' | 'private' | null;
  communityRole: CommunityRole | null;
  /** The viewer's place among the course's instructors. */
  instructorRole: InstructorRole | null;
  /** An active entitlement to the course (entitlement.ts). */
  entitled: boolean;
  enrolment: Enrolment | null;
}

/** Pure rules over loaded data. */
export const CoursePolicy = {
  /** Creating a course: the one rule for teaching content (`mayCreateContent`). */
  create(actor: Actor, communityRole: CommunityRole | null | undefined): boolean {
    return mayCreateContent(actor, communityRole);
  },
  view(actor: Viewer, a: CourseAccess): boolean {
    if (CoursePolicy.author(actor, a)) return true;
    if (a.course.status !== 'published') return false;
    return a.communityVisibility === null || a.communityVisibility === 'public' || a.communityRole !== null;
  },
  /** Edit, publish, outline, instructors, grants, grading, analytics, submissions. */
  author(actor: Viewer, a: CourseAccess): boolean {
    if (!actor) return false;
    return a.instructorRole !== null || isManagingRole(a.communityRole) || isPlatformAdmin(actor);
  },
  /** Enrol oneself: signed-in viewers of a published course who do not teach it. */
  enrol(actor: Viewer, a: CourseAccess): boolean {
    return actor !== null && a.course.status === 'published' && a.instructorRole === null && CoursePolicy.view(actor, a);
  },
  /** Lesson bodies, progress and graded work: entitled learners, and authors. */
  learn(actor: Viewer, a: CourseAccess): boolean {
    if (!actor) return false;
    return CoursePolicy.author(actor, a) || (a.entitled && CoursePolicy.view(actor, a));
  },
} as const;

export type CourseAction = Exclude<keyof typeof CoursePolicy, 'create'>;

/** Matches no row: a signed-out visitor has no membership, instructor seat, entitlement or enrolment. */
const NOBODY = '00000000-0000-0000-0000-000000000000';

/** The viewer's user id for joins and predicates; a signed-out visitor's matches no row. */
export const viewerId = (viewer: Viewer): string => viewer?.userId ?? NOBODY;

/**
 * One statement: the course, the viewer's standing in its community, instructor seat, entitlement and enrolment.
 * `lock` takes the course row FOR UPDATE (inside a transaction), so changes to one course run one at a time.
 */
export async function loadCourseAccess(
  source: Queries,
  actor: Viewer,
  courseId: string,
  options: { lock?: boolean } = {},
): Promise<CourseAccess | null> {
  const userId = viewerId(actor);
  let query = queriesOf(source)
    .selectFrom('courses as k')
    .leftJoin('communities as co', 'co.id', 'k.community_id')
    .leftJoin('community_members as cm', (join) => join.onRef('cm.community_id', '=', 'k.community_id').on('cm.user_id', '=', userId))
    .leftJoin('course_instructors as ci', (join) => join.onRef('ci.course_id', '=', 'k.id').on('ci.user_id', '=', userId))
    .leftJoin('course_enrolments as e', (join) => join.onRef('e.course_id', '=', 'k.id').on('e.user_id', '=', userId))
    .selectAll('k')
    .select((eb) => [
      'co.visibility as community_visibility',
      'cm.role as community_role',
      'ci.role as instructor_role',
      sql<boolean>`${entitledTo(userId, 'course', eb.ref('k.id'))}`.as('entitled'),
      'e.enrolled_at as e_enrolled_at',
      'e.last_lesson_id as e_last_lesson_id',
      'e.last_activity_at as e_last_activity_at',
      'e.completed_at as e_completed_at',
    ])
    .where('k.id', '=', courseId);
  if (options.lock) query = query.forUpdate('k');
  const row = await query.executeTakeFirst();
  if (!row) return null;
  const {
    community_visibility,
    community_role,
    instructor_role,
    entitled,
    e_enrolled_at,
    e_last_lesson_id,
    e_last_activity_at,
    e_completed_at,
    ...course
  } = row;
  return {
    course,
    communityVisibility: community_visibility,
    communityRole: community_role,
    instructorRole: instructor_role,
    entitled,
    enrolment:
      e_enrolled_at === null
        ? null
        : {
            course_id: course.id,
            user_id: userId,
            enrolled_at: e_enrolled_at,
            last_lesson_id: e_last_lesson_id,
            last_activity_at: e_last_activity_at!,
            completed_at: e_completed_at,
          },
  };
}

/** A courses row aliased `k`, the scope the predicates below are written in. */
type CourseScope = DB & { k: DB['courses'] };

/** `CoursePolicy.author` over the course row `k` of the surrounding query. */
export function courseAuthoredBy(actor: Viewer): Expression<SqlBool> {
  if (!actor) return sql<SqlBool>`false`;
  if (isPlatformAdmin(actor)) return sql<SqlBool>`true`;
  const eb = expressionBuilder<CourseScope, 'k'>();
  return eb.or([
    eb.exists(
      eb.selectFrom('course_instructors as ai').select(sql.lit(1).as('one')).whereRef('ai.course_id', '=', 'k.id').where('ai.user_id', '=', actor.userId),
    ),
    eb.exists(
      eb
        .selectFrom('community_members as am')
        .select(sql.lit(1).as('one'))
        .whereRef('am.community_id', '=', 'k.community_id')
        .where('am.user_id', '=', actor.userId)
        .where('am.role', 'in', MANAGING_ROLES),
    ),
  ]);
}

/** `CoursePolicy.view` over the course row `k` of the surrounding query, for `actor` (null: signed out). */
export function courseVisibleTo(actor: Viewer): Expression<SqlBool> {
  const eb = expressionBuilder<CourseScope, 'k'>();
  const where: Expression<SqlBool>[] = [
    eb('k.community_id', 'is', null),
    eb.exists(
      eb.selectFrom('communities as vc').select(sql.lit(1).as('one')).whereRef('vc.id', '=', 'k.community_id').where('vc.visibility', '=', 'public'),
    ),
  ];
  if (actor) {
    where.push(
      eb.exists(
        eb
          .selectFrom('community_members as vm')
          .select(sql.lit(1).as('one'))
          .whereRef('vm.community_id', '=', 'k.community_id')
          .where('vm.user_id', '=', actor.userId),
      ),
    );
  }
  return eb.or([eb.and([eb('k.status', '=', 'published'), eb.or(where)]), courseAuthoredBy(actor)]);
}

/** The ids of the courses `actor` may see: `CoursePolicy.view` as a subquery, for the catalogue and lists. */
export function visibleCourseIds(q: QueryCreator<DB>, actor: Viewer) {
  return q.selectFrom('courses as k').select('k.id').where(courseVisibleTo(actor));
}

const REFUSALS: Record<CourseAction, string> = {
  view: 'No such course.',
  author: 'Only the course instructors and the community owners and admins can do that.',
  enrol: 'You teach this course: instructors need no enrolment.',
  learn: 'Enrol in this course to open its lessons.',
};

/**
 * Checks one action. A course the viewer may not even see answers `not_found`, so drafts and private communities'
 * courses are not revealed; a visible one answers `forbidden` with the reason.
 */
export function checkCourseAccess(actor: Viewer, access: CourseAccess | null, action: CourseAction): CourseAccess {
  if (!access || !CoursePolicy.view(actor, access)) throw new AppError('not_found', 'No such course.');
  if (!CoursePolicy[action](actor, access)) {
    if (!actor) throw new AppError('unauthenticated', 'Sign in first.');
    throw new AppError('forbidden', REFUSALS[action]);
  }
  return access;
}

export async function authorizeCourse(
  source: Queries,
  actor: Viewer,
  courseId: string,
  action: CourseAction,
  options: { lock?: boolean } = {},
): Promise<CourseAccess> {
  return checkCourseAccess(actor, await loadCourseAccess(source, actor, courseId, options), action);
}

/** A lesson with the access to its course, or null when there is no such lesson. */
export async function loadLessonAccess(
  source: Queries,
  actor: Viewer,
  lessonId: string,
  options: { lock?: boolean } = {},
): Promise<{ course: CourseAccess; lesson: Lesson } | null> {
  const q = queriesOf(source);
  const lesson = await q.selectFrom('course_lessons').selectAll().where('id', '=', lessonId).executeTakeFirst();
  if (!lesson) return null;
  const course = await loadCourseAccess(q, actor, lesson.course_id, options);
  return course && { course, lesson };
}

/** Checks `action` on the lesson's course; an unknown lesson, like an invisible course, is `not_found`. */
export async function authorizeLesson(
  source: Queries,
  actor: Viewer,
  lessonId: string,
  action: CourseAction,
  options: { lock?: boolean } = {},
): Promise<{ course: CourseAccess; lesson: Lesson }> {
  const loaded = await loadLessonAccess(source, actor, lessonId, options);
  if (!loaded) throw new AppError('not_found', 'No such lesson.');
  checkCourseAccess(actor, loaded.course, action);
  return loaded;
}

const DAY_MS = 86_400_000;

/**
 * When a lesson opens (drip release), judged at `now` on the domain clock. `afterEnrolment` counts days from the
 * learner's enrolment; without one it is closed and its date unknown. `availableAt` is when it opens (or opened).
 */
export function lessonAvailability(
  lesson: Pick<Lesson, 'release_type' | 'release_days' | 'release_at'>,
  enrolledAt: Date | null,
  now: Date,
): { open: boolean; availableAt: Date | null } {
  let at: Date | null;
  if (lesson.release_type === 'immediate') return { open: true, availableAt: null };
  if (lesson.release_type === 'onDate') at = lesson.release_at;
  else at = enrolledAt && new Date(enrolledAt.getTime() + (lesson.release_days ?? 0) * DAY_MS);
  if (!at) return { open: false, availableAt: null };
  return { open: now.getTime() >= at.getTime(), availableAt: at };
}
