import {
  AttendanceQuery,
  AttendanceReportDto,
  ClassroomEnvelope,
  ClassroomList,
  CohostInput,
  CreateClassroomInput,
  ListClassroomsQuery,
  RegistrationEnvelope,
  RegistrationList,
  RtcTokenDto,
  UpdateClassroomInput,
  type ClassroomDto,
} from '../../contracts/classrooms.ts';
import { IdParam, MemberParams } from '../../contracts/communities.ts';
import { attendanceCsv, attendanceReport } from '../../domain/classrooms/attendance.ts';
import { endClassroom, issueRtcToken, startClassroom } from '../../domain/classrooms/lifecycle.ts';
import { listRegistrations, register, unregister } from '../../domain/classrooms/registrations.ts';
import {
  addCohost,
  cancelClassroom,
  createClassroom,
  getClassroom,
  listClassrooms,
  removeCohost,
  updateClassroom,
} from '../../domain/classrooms/scheduling.ts';
import { slugify } from '../../domain/communities/communities.ts';
import type { Actor, Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import { rawBody, reply, type RouteKit } from '../routeKit.ts';

const tags = ['classrooms'];

/** Scheduling, registration, start and end, video tokens and attendance of live classes. */
export function classroomRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'post',
      path: '/classrooms',
      summary: 'Schedule a class (community owners and admins, instructors who moderate it); the caller hosts it',
      tags,
      auth: true,
      body: CreateClassroomInput,
      responses: { 201: { description: 'Scheduled', schema: ClassroomEnvelope } },
    },
    async (ctx, { body }) => ({ classroom: await createClassroom(deps, actorOf(ctx), body) }),
  );

  route(
    {
      method: 'get',
      path: '/classrooms',
      summary: 'Scheduled and live classes I may see, soonest first (one community, or all of mine)',
      tags,
      auth: true,
      query: ListClassroomsQuery,
      responses: { 200: { description: 'Classes by start time', schema: ClassroomList } },
    },
    async (ctx, { query }) => ({ data: await listClassrooms(deps, actorOf(ctx), query) }),
  );

  route(
    {
      method: 'get',
      path: '/classrooms/:id',
      summary: 'One class, with my role, registration and waitlist position',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'The class', schema: ClassroomEnvelope } },
    },
    async (ctx, { params }) => ({ classroom: await getClassroom(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'patch',
      path: '/classrooms/:id',
      summary: 'Edit a scheduled class (only title and description once live); more seats promote the waitlist',
      tags,
      auth: true,
      params: IdParam,
      body: UpdateClassroomInput,
      responses: { 200: { description: 'Updated', schema: ClassroomEnvelope } },
    },
    async (ctx, { params, body }) => ({ classroom: await updateClassroom(deps, actorOf(ctx), params.id, body) }),
  );

  const action = (path: string, summary: string, run: (actor: Actor, id: string) => Promise<ClassroomDto>) =>
    route(
      {
        method: 'post',
        path: `/classrooms/:id/${path}`,
        summary,
        tags,
        auth: true,
        params: IdParam,
        responses: { 200: { description: 'The class after the change', schema: ClassroomEnvelope } },
      },
      async (ctx, { params }) => ({ classroom: await run(actorOf(ctx), params.id) }),
    );
  action('cancel', 'Cancel a scheduled class; its learners are told live (classroom:removed)', (actor, id) => cancelClassroom(deps, actor, id));
  action('start', `Go live (host or community admin; at most 15 minutes early); classroom:started reaches everyone with a place`, (actor, id) =>
    startClassroom(deps, actor, id),
  );
  action('end', 'End a live class: attendance is closed and marked, chat becomes read-only, no more video tokens', (actor, id) =>
    endClassroom(deps, actor, id),
  );

  route(
    {
      method: 'post',
      path: '/classrooms/:id/cohosts',
      summary: 'Make a community member a co-host (idempotent)',
      tags,
      auth: true,
      params: IdParam,
      body: CohostInput,
      responses: { 200: { description: 'The class with its co-hosts', schema: ClassroomEnvelope } },
    },
    async (ctx, { params, body }) => ({ classroom: await addCohost(deps, actorOf(ctx), params.id, body.userId) }),
  );

  route(
    {
      method: 'delete',
      path: '/classrooms/:id/cohosts/:userId',
      summary: 'Remove a co-host; they leave the room and its chat on every node',
      tags,
      auth: true,
      params: MemberParams,
      responses: { 200: { description: 'The class with its co-hosts', schema: ClassroomEnvelope } },
    },
    async (ctx, { params }) => ({ classroom: await removeCohost(deps, actorOf(ctx), params.id, params.userId) }),
  );

  route(
    {
      method: 'post',
      path: '/classrooms/:id/register',
      summary: 'Register (community members); a full class puts me on the waitlist. Idempotent: 200 when already in',
      tags,
      auth: true,
      params: IdParam,
      responses: {
        201: { description: 'Registered or waitlisted', schema: RegistrationEnvelope },
        200: { description: 'Already registered or waitlisted; nothing changed', schema: RegistrationEnvelope },
      },
    },
    async (ctx, { params }) => {
      const outcome = await register(deps, actorOf(ctx), params.id);
      return reply(outcome.changed ? 201 : 200, { registration: outcome.registration, classroom: outcome.classroom });
    },
  );

  route(
    {
      method: 'delete',
      path: '/classrooms/:id/register',
      summary: 'Cancel my registration or waitlist place (the next waitlisted learner is promoted); idempotent',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'The class as I now stand in it', schema: ClassroomEnvelope } },
    },
    async (ctx, { params }) => ({ classroom: await unregister(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'get',
      path: '/classrooms/:id/registrations',
      summary: 'Registrations: registered, then the waitlist in order, then cancelled (host or community admin)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Registrations', schema: RegistrationList } },
    },
    async (ctx, { params }) => ({ data: await listRegistrations(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'post',
      path: '/classrooms/:id/rtc-token',
      summary: 'A video (Agora) token for me in this class; renew through the same call. 503 unavailable when video is off',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Token', schema: RtcTokenDto } },
    },
    (ctx, { params }) => issueRtcToken(deps, actorOf(ctx), params.id),
  );

  route(
    {
      method: 'get',
      path: '/classrooms/:id/attendance',
      summary: 'Attendance report (host or community admin); ?format=csv downloads it as text/csv',
      tags,
      auth: true,
      params: IdParam,
      query: AttendanceQuery,
      responses: { 200: { description: 'Report (JSON, or CSV with format=csv)', schema: AttendanceReportDto, raw: 'text/csv' } },
    },
    async (ctx, { params, query }) => {
      const report = await attendanceReport(deps, actorOf(ctx), params.id);
      if (query.format === 'json') return report;
      return rawBody({
        type: 'text/csv; charset=utf-8',
        body: attendanceCsv(report),
        filename: `attendance-${slugify(report.title)}-${report.classroomId.slice(0, 8)}.csv`,
      });
    },
  );
}
