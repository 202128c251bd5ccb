import { IdParam, MemberParams } from '../../contracts/communities.ts';
import {
  AuthorLessonEnvelope,
  CompletionDto,
  CourseDetailDto,
  CourseEnvelope,
  CoursePage,
  CreateCourseInput,
  CreateLessonInput,
  EnrolmentEnvelope,
  GrantEnrolmentInput,
  InstructorInput,
  LessonEnvelope,
  LessonQuery,
  ListCoursesQuery,
  ModuleEnvelope,
  ModuleInput,
  MyCourseList,
  OutlineInput,
  OutlineEnvelope,
  PositionDto,
  PositionInput,
  ProgressDto,
  UpdateCourseInput,
  UpdateLessonInput,
} from '../../contracts/courses.ts';
import { addInstructor, createCourse, publishCourse, removeInstructor, unpublishCourse, updateCourse } from '../../domain/courses/authoring.ts';
import { getCourse, listCourses } from '../../domain/courses/catalogue.ts';
import { addLesson, addModule, deleteLesson, deleteModule, renameModule, reorderOutline, updateLesson } from '../../domain/courses/content.ts';
import { enrol, grantEnrolment, listMyCourses, type EnrolmentOutcome } from '../../domain/courses/enrolment.ts';
import { openLesson } from '../../domain/courses/lessons.ts';
import { completeLesson, getProgress, savePosition } from '../../domain/courses/progress.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf, viewerOf } from '../middlewares/auth.ts';
import { reply, type RouteKit } from '../routeKit.ts';

const tags = ['courses'];


const enrolmentReply = (outcome: EnrolmentOutcome) =>
  reply(outcome.changed ? 201 : 200, { enrolment: outcome.enrolment, course: outcome.course });

/** Courses: authoring, the catalogue, enrolment, lessons and progress. */
export function courseRoutes(route: RouteKit, deps: Deps) {
  // ---------------------------------------------------------------- catalogue

  route(
    {
      method: 'get',
      path: '/courses',
      summary: 'The catalogue: published courses I may see, newest first (signed-out visitors see public ones)',
      tags,
      auth: 'optional',
      query: ListCoursesQuery,
      responses: { 200: { description: 'A page of courses', schema: CoursePage } },
    },
    async (ctx, { query }) => listCourses(deps, viewerOf(ctx), query),
  );

  route(
    {
      method: 'get',
      path: '/courses/:id',
      summary: 'A course with its outline (never lesson content), my enrolment and progress; authors also see drafts',
      tags,
      auth: 'optional',
      params: IdParam,
      responses: { 200: { description: 'The course page', schema: CourseDetailDto } },
    },
    async (ctx, { params }) => getCourse(deps, viewerOf(ctx), params.id),
  );

  // ---------------------------------------------------------------- authoring

  route(
    {
      method: 'post',
      path: '/courses',
      summary: 'Create a draft course (platform instructors and admins; community owners and admins for their community)',
      tags,
      auth: true,
      body: CreateCourseInput,
      responses: { 201: { description: 'Created as a draft', schema: CourseEnvelope } },
    },
    async (ctx, { body }) => ({ course: await createCourse(deps, actorOf(ctx), body) }),
  );

  route(
    {
      method: 'patch',
      path: '/courses/:id',
      summary: 'Edit a course (authors)',
      tags,
      auth: true,
      params: IdParam,
      body: UpdateCourseInput,
      responses: { 200: { description: 'Updated', schema: CourseEnvelope } },
    },
    async (ctx, { params, body }) => ({ course: await updateCourse(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'post',
      path: '/courses/:id/publish',
      summary: 'Publish (authors; needs a lesson). Idempotent',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Published', schema: CourseEnvelope } },
    },
    async (ctx, { params }) => ({ course: await publishCourse(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'post',
      path: '/courses/:id/unpublish',
      summary: 'Take a published course away from the catalogue and its learners (authors). Idempotent',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Unpublished', schema: CourseEnvelope } },
    },
    async (ctx, { params }) => ({ course: await unpublishCourse(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'post',
      path: '/courses/:id/instructors',
      summary: 'Add a co-instructor (authors); they join the course discussion. Idempotent',
      tags,
      auth: true,
      params: IdParam,
      body: InstructorInput,
      responses: { 200: { description: 'The course with its instructors', schema: CourseEnvelope } },
    },
    async (ctx, { params, body }) => ({ course: await addInstructor(deps, actorOf(ctx), params.id, body.userId) }),
  );

  route(
    {
      method: 'delete',
      path: '/courses/:id/instructors/:userId',
      summary: 'Remove a co-instructor (not the owner); they leave the discussion unless enrolled',
      tags,
      auth: true,
      params: MemberParams,
      responses: { 200: { description: 'The course with its instructors', schema: CourseEnvelope } },
    },
    async (ctx, { params }) => ({ course: await removeInstructor(deps, actorOf(ctx), params.id, params.userId) }),
  );

  route(
    {
      method: 'put',
      path: '/courses/:id/outline',
      summary: 'Reorder modules and lessons (lessons may move between modules); list exactly the course\'s modules and lessons',
      tags,
      auth: true,
      params: IdParam,
      body: OutlineInput,
      responses: { 200: { description: 'The outline in its new order', schema: OutlineEnvelope } },
    },
    async (ctx, { params, body }) => ({ modules: await reorderOutline(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'post',
      path: '/courses/:id/modules',
      summary: 'Add a module at the end (authors)',
      tags,
      auth: true,
      params: IdParam,
      body: ModuleInput,
      responses: { 201: { description: 'Added', schema: ModuleEnvelope } },
    },
    async (ctx, { params, body }) => ({ module: await addModule(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'patch',
      path: '/modules/:id',
      summary: 'Rename a module (authors)',
      tags,
      auth: true,
      params: IdParam,
      body: ModuleInput,
      responses: { 200: { description: 'Renamed', schema: ModuleEnvelope } },
    },
    async (ctx, { params, body }) => ({ module: await renameModule(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'delete',
      path: '/modules/:id',
      summary: 'Delete a module and its lessons (authors); a published course keeps at least one lesson',
      tags,
      auth: true,
      params: IdParam,
      responses: { 204: { description: 'Deleted' } },
    },
    async (ctx, { params }) => deleteModule(deps, actorOf(ctx), params.id),
  );

  route(
    {
      method: 'post',
      path: '/modules/:id/lessons',
      summary: 'Add a lesson at the end of a module (authors); quizzes carry their questions with answer keys',
      tags,
      auth: true,
      params: IdParam,
      body: CreateLessonInput,
      responses: { 201: { description: 'Added (as authors see it)', schema: AuthorLessonEnvelope } },
    },
    async (ctx, { params, body }) => ({ lesson: await addLesson(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'patch',
      path: '/lessons/:id',
      summary: 'Edit a lesson (authors); its kind is fixed',
      tags,
      auth: true,
      params: IdParam,
      body: UpdateLessonInput,
      responses: { 200: { description: 'Updated (as authors see it)', schema: AuthorLessonEnvelope } },
    },
    async (ctx, { params, body }) => ({ lesson: await updateLesson(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'delete',
      path: '/lessons/:id',
      summary: 'Delete a lesson with the progress on it (authors); a published course keeps at least one lesson',
      tags,
      auth: true,
      params: IdParam,
      responses: { 204: { description: 'Deleted' } },
    },
    async (ctx, { params }) => deleteLesson(deps, actorOf(ctx), params.id),
  );

  // ---------------------------------------------------------------- enrolment

  route(
    {
      method: 'post',
      path: '/courses/:id/enrol',
      summary: 'Enrol in a free course, or in a priced one I bought (otherwise 409: buy it first). Idempotent: 200 when already enrolled',
      tags,
      auth: true,
      params: IdParam,
      responses: {
        201: { description: 'Enrolled', schema: EnrolmentEnvelope },
        200: { description: 'Already enrolled; nothing changed', schema: EnrolmentEnvelope },
      },
    },
    async (ctx, { params }) => enrolmentReply(await enrol(deps, actorOf(ctx), params.id)),
  );

  route(
    {
      method: 'post',
      path: '/courses/:id/enrolments',
      summary: 'Enrol someone free of charge (authors). Idempotent: 200 when already enrolled',
      tags,
      auth: true,
      params: IdParam,
      body: GrantEnrolmentInput,
      responses: {
        201: { description: 'Enrolled', schema: EnrolmentEnvelope },
        200: { description: 'Already enrolled; nothing changed', schema: EnrolmentEnvelope },
      },
    },
    async (ctx, { params, body }) => enrolmentReply(await grantEnrolment(deps, actorOf(ctx), params.id, body.userId)),
  );

  route(
    {
      method: 'get',
      path: '/me/courses',
      summary: 'My courses, most recently active first, with progress and the lesson to continue with',
      tags,
      auth: true,
      responses: { 200: { description: 'My enrolments', schema: MyCourseList } },
    },
    async (ctx) => ({ data: await listMyCourses(deps, actorOf(ctx)) }),
  );

  // ---------------------------------------------------------------- lessons and progress

  route(
    {
      method: 'get',
      path: '/lessons/:id',
      summary:
        'Open a lesson (entitled learners once released, anyone who sees the course for previews, authors); 403 with details.availableAt before release. ?edit=1: authors get it as written',
      tags,
      auth: 'optional',
      params: IdParam,
      query: LessonQuery,
      responses: { 200: { description: '{lesson} for learners, {authorLesson} with ?edit=1', schema: LessonEnvelope } },
    },
    async (ctx, { params, query }) => openLesson(deps, viewerOf(ctx), params.id, { edit: query.edit !== undefined }),
  );

  route(
    {
      method: 'post',
      path: '/lessons/:id/complete',
      summary: 'Mark a lesson complete (idempotent); quizzes and assignments complete when passed (409)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'My progress after it', schema: CompletionDto } },
    },
    async (ctx, { params }) => completeLesson(deps, actorOf(ctx), params.id),
  );

  route(
    {
      method: 'put',
      path: '/lessons/:id/position',
      summary: 'Where I left a video, in seconds; the lesson becomes the one to continue with',
      tags,
      auth: true,
      params: IdParam,
      body: PositionInput,
      responses: { 200: { description: 'Stored', schema: PositionDto } },
    },
    async (ctx, { params, body }) => savePosition(deps, actorOf(ctx), params.id, body.seconds),
  );

  route(
    {
      method: 'get',
      path: '/courses/:id/progress',
      summary: 'My progress in a course: completed lessons, percent of required lessons, the last lesson',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Progress', schema: ProgressDto } },
    },
    async (ctx, { params }) => getProgress(deps, actorOf(ctx), params.id),
  );
}
