import type { AttendanceReportDto, ClassroomDto, RegistrationDto } from '$contracts/classrooms.ts';
import { apiRequest, type ApiCaller, type ApiResult } from './api.ts';

/**
 * The API wraps single resources in an envelope named after them (`{classroom}`) and lists in `{data}`; these
 * helpers also accept the bare shapes so a page keeps working whichever one a route answers with.
 */
export function unwrap<T>(body: unknown, key: string, isBare: (value: unknown) => boolean): T {
  if (isBare(body)) return body as T;
  return (body as Record<string, unknown> | null)?.[key] as T;
}

export function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const record = (body ?? {}) as Record<string, unknown>;
  const list = record.data ?? record[key];
  return Array.isArray(list) ? (list as T[]) : [];
}

const isClassroom = (v: unknown) => typeof v === 'object' && v !== null && 'channelId' in v && 'status' in v;

function mapResult<A, B>(result: ApiResult<A>, map: (data: A) => B): ApiResult<B> {
  return result.ok ? { ...result, data: map(result.data) } : result;
}

interface Session {
  locals: App.Locals;
}

export async function fetchClassroom(event: ApiCaller & Session, classroomId: string): Promise<ApiResult<ClassroomDto>> {
  const result = await apiRequest<unknown>(event, `/api/v1/classrooms/${classroomId}`, { token: event.locals.accessToken });
  return mapResult(result, (body) => unwrap<ClassroomDto>(body, 'classroom', isClassroom));
}

export async function fetchClassrooms(event: ApiCaller & Session, communityId: string): Promise<ApiResult<ClassroomDto[]>> {
  const query = new URLSearchParams({ communityId });
  const result = await apiRequest<unknown>(event, `/api/v1/classrooms?${query}`, { token: event.locals.accessToken });
  return mapResult(result, (body) => listOf<ClassroomDto>(body, 'classrooms'));
}

export async function fetchRegistrations(event: ApiCaller & Session, classroomId: string): Promise<ApiResult<RegistrationDto[]>> {
  const result = await apiRequest<unknown>(event, `/api/v1/classrooms/${classroomId}/registrations`, {
    token: event.locals.accessToken,
  });
  return mapResult(result, (body) => listOf<RegistrationDto>(body, 'registrations'));
}

export async function fetchAttendance(event: ApiCaller & Session, classroomId: string): Promise<ApiResult<AttendanceReportDto>> {
  const result = await apiRequest<unknown>(event, `/api/v1/classrooms/${classroomId}/attendance`, {
    token: event.locals.accessToken,
  });
  return mapResult(result, (body) =>
    unwrap<AttendanceReportDto>(body, 'report', (v) => typeof v === 'object' && v !== null && 'rows' in v),
  );
}

/** POST/DELETE on a classroom with no body to speak of (register, start, end, cancel…). */
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
