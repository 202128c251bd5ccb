import { json } from '@sveltejs/kit';
import type { AttemptEnvelope, AttemptList, CertificateEnvelope, CertificateList, SubmissionEnvelope, SubmissionList } from '$contracts/courseLearning.ts';
import type { CommunityPage } from '$contracts/communities.ts';
import type { CompletionDto, CourseDetailDto, CourseLevel, CoursePage, EnrolmentEnvelope, LessonDto, LessonEnvelope, MyCourseList } from '$contracts/courses.ts';
import type { AssetEnvelope } from '$contracts/media.ts';
import type { ErrorResponse } from '$contracts/errors.ts';
import { apiRequest, internalApiOrigin, toErrorBody, type ApiCaller, type ApiResult } from './api.ts';

interface Session {
  locals: App.Locals;
}
type Caller = ApiCaller & Session;

export const COURSE_PAGE_SIZE = 12;

export interface CatalogueFilters {
  level: CourseLevel | null;
  tag: string | null;
  communityId: string | null;
}

/** The query string of a catalogue page (filters and cursor), as the API and the browser's "Load more" take it. */
export function catalogueQuery(filters: CatalogueFilters, cursor: string | null): URLSearchParams {
  const query = new URLSearchParams({ limit: String(COURSE_PAGE_SIZE) });
  if (filters.level) query.set('level', filters.level);
  if (filters.tag) query.set('tag', filters.tag);
  if (filters.communityId) query.set('communityId', filters.communityId);
  if (cursor) query.set('cursor', cursor.slice(0, 200));
  return query;
}

export function fetchCatalogue(event: Caller, filters: CatalogueFilters, cursor: string | null): Promise<ApiResult<CoursePage>> {
  return apiRequest<CoursePage>(event, `/api/v1/courses?${catalogueQuery(filters, cursor)}`, { token: event.locals.accessToken });
}

/** The courses I am enrolled in, most recently active first, each with where to continue. */
export function fetchMyCourses(event: Caller): Promise<ApiResult<MyCourseList>> {
  return apiRequest<MyCourseList>(event, '/api/v1/me/courses', { token: event.locals.accessToken });
}

/** The communities I belong to (the catalogue's community filter). */
export async function fetchMyCommunities(event: Caller): Promise<{ id: string; name: string }[]> {
  const result = await apiRequest<CommunityPage>(event, '/api/v1/communities?limit=100', { token: event.locals.accessToken });
  return result.ok ? result.data.data.filter((c) => c.myRole !== null).map((c) => ({ id: c.id, name: c.name })) : [];
}

export function fetchCourse(event: Caller, courseId: string): Promise<ApiResult<CourseDetailDto>> {
  return apiRequest<CourseDetailDto>(event, `/api/v1/courses/${courseId}`, { token: event.locals.accessToken });
}

export function enrol(event: Caller, courseId: string): Promise<ApiResult<EnrolmentEnvelope>> {
  return apiRequest<EnrolmentEnvelope>(event, `/api/v1/courses/${courseId}/enrol`, { method: 'POST', token: event.locals.accessToken });
}

/** A lesson as a learner opens it (the author's view is the Teach area's business). */
export async function fetchLesson(event: Caller, lessonId: string): Promise<ApiResult<LessonDto>> {
  const result = await apiRequest<LessonEnvelope>(event, `/api/v1/lessons/${lessonId}`, { token: event.locals.accessToken });
  if (!result.ok) return result;
  if (!('lesson' in result.data)) return { ok: false, status: 500, error: { code: 'internal', message: 'The lesson came back in its editing form.' } };
  return { ...result, data: result.data.lesson };
}

export function completeLesson(event: Caller, lessonId: string): Promise<ApiResult<CompletionDto>> {
  return apiRequest<CompletionDto>(event, `/api/v1/lessons/${lessonId}/complete`, { method: 'POST', token: event.locals.accessToken });
}

export function fetchAttempts(event: Caller, lessonId: string): Promise<ApiResult<AttemptList>> {
  return apiRequest<AttemptList>(event, `/api/v1/lessons/${lessonId}/attempts`, { token: event.locals.accessToken });
}

export function submitAttempt(event: Caller, lessonId: string, body: unknown): Promise<ApiResult<AttemptEnvelope>> {
  return apiRequest<AttemptEnvelope>(event, `/api/v1/lessons/${lessonId}/attempts`, { method: 'POST', body, token: event.locals.accessToken });
}

export function fetchSubmissions(event: Caller, lessonId: string): Promise<ApiResult<SubmissionList>> {
  return apiRequest<SubmissionList>(event, `/api/v1/lessons/${lessonId}/submissions`, { token: event.locals.accessToken });
}

export function submitAssignment(event: Caller, lessonId: string, body: unknown): Promise<ApiResult<SubmissionEnvelope>> {
  return apiRequest<SubmissionEnvelope>(event, `/api/v1/lessons/${lessonId}/submissions`, { method: 'POST', body, token: event.locals.accessToken });
}

/** My certificates (to link the one a course earned). */
export function fetchMyCertificates(event: Caller): Promise<ApiResult<CertificateList>> {
  return apiRequest<CertificateList>(event, '/api/v1/me/certificates', { token: event.locals.accessToken });
}

/**
 * Uploads one file to `POST /api/v1/assets` as multipart (the form action received it from the browser). The shared
 * pass-through only carries JSON, so assignment files travel through the page's own form action.
 */
export async function uploadAsset(event: Caller, file: File): Promise<ApiResult<AssetEnvelope>> {
  const form = new FormData();
  form.set('file', file, file.name);
  const headers = new Headers({ accept: 'application/json' });
  const secret = process.env.EDULURE_INTERNAL_SECRET;
  if (secret) {
    headers.set('x-edulure-internal', secret);
    try {
      headers.set('x-edulure-client-ip', event.getClientAddress());
    } catch {
      // No client address header: the API uses the socket's.
    }
  }
  if (event.locals.accessToken) headers.set('authorization', `Bearer ${event.locals.accessToken}`);
  let response: Response;
  try {
    response = await fetch(`${internalApiOrigin()}/api/v1/assets`, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(120_000) });
  } catch {
    return { ok: false, status: 503, error: { code: 'unavailable', message: 'The Edulure API is not reachable.' } };
  }
  const payload = (await response.json().catch(() => undefined)) as unknown;
  if (response.ok) return { ok: true, status: response.status, data: payload as AssetEnvelope };
  return { ok: false, status: response.status, error: toErrorBody(response.status, payload) };
}

/** A certificate as anyone may verify it (no session needed). */
export function fetchCertificate(event: ApiCaller & Partial<Session>, certificateId: string): Promise<ApiResult<CertificateEnvelope>> {
  return apiRequest<CertificateEnvelope>(event, `/api/v1/certificates/${certificateId}`, { token: event.locals?.accessToken ?? null });
}

const NO_STORE = { 'cache-control': 'no-store' };
const MAX_JSON_BYTES = 4 * 1024;

/**
 * Forwards the browser's small JSON `PUT` (a reading or video position) to the API with the session's token. The
 * shared pass-through (`/app/api/v1/...`) has no PUT yet; these saves come often, so they get this narrow door.
 */
export async function forwardPut(event: Caller & { request: Request; url: URL }, apiPath: string): Promise<Response> {
  // Browsers send Origin with every PUT: another site's page cannot move this reader's position.
  if (event.request.headers.get('origin') !== event.url.origin) {
    return json({ error: { code: 'forbidden', message: 'Cross-site request refused.' } } satisfies ErrorResponse, { status: 403 });
  }
  if (!(event.request.headers.get('content-type') ?? '').startsWith('application/json')) {
    return json({ error: { code: 'invalid_input', message: 'Send JSON.' } } satisfies ErrorResponse, { status: 415 });
  }
  const text = await event.request.text();
  if (text.length > MAX_JSON_BYTES) {
    return json({ error: { code: 'payload_too_large', message: 'That is too long.' } } satisfies ErrorResponse, { status: 413 });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return json({ error: { code: 'invalid_input', message: 'The request body is not JSON.' } } satisfies ErrorResponse, { status: 400 });
  }
  const result = await apiRequest<unknown>(event, apiPath, { method: 'PUT', body, token: event.locals.accessToken });
  if (!result.ok) return json({ error: result.error } satisfies ErrorResponse, { status: result.status, headers: NO_STORE });
  if (result.data === undefined) return new Response(null, { status: 204, headers: NO_STORE });
  return json(result.data, { status: result.status, headers: NO_STORE });
}
