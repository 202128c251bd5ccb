import type {
  AttendanceReportDto,
  ClassroomDto,
  ClassroomEnvelope,
  ClassroomList,
  RegistrationDto,
  RegistrationList,
} from '$contracts/classrooms.ts';
import { apiRequest, mapResult, type ApiCaller, type ApiResult } from './api.ts';

interface Session {
  locals: App.Locals;
}

export async function fetchClassroom(event: ApiCaller & Session, classroomId: string): Promise<ApiResult<ClassroomDto>> {
  const result = await apiRequest<ClassroomEnvelope>(event, `/api/v1/classrooms/${classroomId}`, { token: event.locals.accessToken });
  return mapResult(result, (body) => body.classroom);
}

export async function fetchClassrooms(event: ApiCaller & Session, communityId: string): Promise<ApiResult<ClassroomDto[]>> {
  const query = new URLSearchParams({ communityId });
  const result = await apiRequest<ClassroomList>(event, `/api/v1/classrooms?${query}`, { token: event.locals.accessToken });
  return mapResult(result, (body) => body.data);
}

export async function fetchRegistrations(event: ApiCaller & Session, classroomId: string): Promise<ApiResult<RegistrationDto[]>> {
  const result = await apiRequest<RegistrationList>(event, `/api/v1/classrooms/${classroomId}/registrations`, {
    token: event.locals.accessToken,
  });
  return mapResult(result, (body) => body.data);
}

export function fetchAttendance(event: ApiCaller & Session, classroomId: string): Promise<ApiResult<AttendanceReportDto>> {
  return apiRequest<AttendanceReportDto>(event, `/api/v1/classrooms/${classroomId}/attendance`, { token: event.locals.accessToken });
}

/** POST/DELETE on a classroom with no body to speak of (register, start, end, cancel…); the caller only needs the outcome. */
export function classroomCommand(
  event: ApiCaller & Session,
  classroomId: string,
  command: string,
  options: { method?: 'POST' | 'DELETE'; body?: unknown } = {},
): Promise<ApiResult<unknown>> {
  return apiRequest<unknown>(event, `/api/v1/classrooms/${classroomId}/${command}`, {
    method: options.method ?? 'POST',
    body: options.body,
    token: event.locals.accessToken,
  });
}
