import type { TeachingDto } from '$contracts/teaching.ts';
import type { RequestEvent } from '@sveltejs/kit';
import type { CommunityDto, CommunityPage } from '$contracts/communities.ts';
import type { CourseAnalyticsDto, SubmissionDto, SubmissionEnvelope, SubmissionPage, SubmissionStatus } from '$contracts/courseLearning.ts';
import { GradeSubmissionInput } from '$contracts/courseLearning.ts';
import {
  CreateLessonInput,
  LESSON_KINDS,
  ModuleInput,
  OutlineInput,
  type AuthorLessonDto,
  type AuthorLessonEnvelope,
  type CourseDetailDto,
  type CourseDto,
  type CourseEnvelope,
  type LessonEnvelope,
  type ModuleEnvelope,
} from '$contracts/courses.ts';
import {
  CreateChapterInput,
  CreateEbookInput,
  ImportEpubInput,
  ReorderChaptersInput,
  UpdateChapterInput,
  UpdateEbookInput,
  type ChapterSourceDto,
  type ChapterSourceEnvelope,
  type EbookDetailDto,
  type EbookEnvelope,
  type ImportResultDto,
} from '$contracts/ebooks.ts';
import type { ClassroomDto } from '$contracts/classrooms.ts';
import type { OwnedAssetEnvelope } from '$contracts/media.ts';
import { COURSE_FIELDS, LESSON_FIELDS, parseCourseForm, parseLessonForm, priceToMinor } from '$lib/components/teach/forms.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, formString, generalMessage, type FormFailure } from '$lib/forms.ts';
import { apiRequest, mapResult, type ApiCaller, type ApiResult } from './api.ts';
import { fetchClassrooms } from './classrooms.ts';

/*
 * The instructor side: course and ebook authoring, grading and analytics, as the builder's loads and form actions
 * call them. Each form action returns `{ ok: true, … }` or a FormFailure the page shows beside its fields.
 */

type Caller = ApiCaller & { locals: App.Locals };
type Outcome<T> = { ok: true; data: T } | { ok: false; status: number; failure: FormFailure };

const auth = (event: Caller) => ({ token: event.locals.accessToken });

function invalid(values: Record<string, string>, issues: readonly { path: readonly PropertyKey[]; message: string }[]): Outcome<never> {
  return { ok: false, status: 400, failure: { values, fieldErrors: fieldErrorsFromIssues(issues), message: CHECK_FIELDS_MESSAGE } };
}

async function send<T>(
  event: Caller,
  path: string,
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  body: unknown,
  values: Record<string, string>,
  fields: readonly string[],
): Promise<Outcome<T>> {
  const result = await apiRequest<T>(event, `/api/v1${path}`, { method, body, ...auth(event) });
  if (!result.ok) return { ok: false, status: result.status, failure: failureFromApi(result.error, values, fields) };
  return { ok: true, data: result.data };
}

// ---------------------------------------------------------------- the author's shelf

/** Courses and ebooks I teach (and those of communities I run), drafts included: the API's GET /me/teaching. */
export async function fetchTeaching(event: Caller): Promise<ApiResult<TeachingDto>> {
  return apiRequest<TeachingDto>(event, '/api/v1/me/teaching', auth(event));
}

/** Communities where I may publish courses and ebooks: the ones I own or administer. */
export async function fetchManagedCommunities(event: Caller): Promise<CommunityDto[]> {
  const result = await apiRequest<CommunityPage>(event, '/api/v1/communities?limit=100', auth(event));
  if (!result.ok) return [];
  return result.data.data.filter((c) => c.myRole === 'owner' || c.myRole === 'admin');
}

// ---------------------------------------------------------------- courses

export function fetchCourse(event: Caller, courseId: string): Promise<ApiResult<CourseDetailDto>> {
  return apiRequest<CourseDetailDto>(event, `/api/v1/courses/${courseId}`, auth(event));
}

export async function createCourse(event: RequestEvent): Promise<Outcome<CourseDto>> {
  const parsed = parseCourseForm(await event.request.formData(), 'create');
  if (!parsed.ok) return { ok: false, status: 400, failure: parsed.failure };
  const sent = await send<CourseEnvelope>(event, '/courses', 'POST', parsed.input, parsed.values, [...COURSE_FIELDS, 'priceMinor']);
  return sent.ok ? { ok: true, data: sent.data.course } : priceFailure(sent);
}

export async function updateCourse(event: RequestEvent, courseId: string): Promise<Outcome<CourseDto>> {
  const parsed = parseCourseForm(await event.request.formData(), 'update');
  if (!parsed.ok) return { ok: false, status: 400, failure: parsed.failure };
  const sent = await send<CourseEnvelope>(event, `/courses/${courseId}`, 'PATCH', parsed.input, parsed.values, [...COURSE_FIELDS, 'priceMinor']);
  return sent.ok ? { ok: true, data: sent.data.course } : priceFailure(sent);
}

/** The API names the price `priceMinor`; the form shows it as "price". */
function priceFailure<T>(outcome: { ok: false; status: number; failure: FormFailure }): Outcome<T> {
  const { priceMinor, coverAssetId, ...rest } = outcome.failure.fieldErrors;
  const fieldErrors = { ...rest, ...(priceMinor ? { price: priceMinor } : {}), ...(coverAssetId ? { cover: coverAssetId } : {}) };
  return { ...outcome, failure: { ...outcome.failure, fieldErrors } };
}

export async function publishCourse(event: RequestEvent, courseId: string, publish: boolean): Promise<{ ok: true } | { ok: false; status: number; message: string }> {
  const result = await apiRequest<CourseEnvelope>(event, `/api/v1/courses/${courseId}/${publish ? 'publish' : 'unpublish'}`, { method: 'POST', ...auth(event) });
  return result.ok ? { ok: true } : { ok: false, status: result.status, message: generalMessage(result.error) };
}

export async function addModule(event: RequestEvent, courseId: string): Promise<Outcome<ModuleEnvelope>> {
  const form = await event.request.formData();
  const values = { moduleTitle: formString(form, 'moduleTitle') };
  const parsed = ModuleInput.safeParse({ title: values.moduleTitle });
  if (!parsed.success) return renamed(invalid(values, parsed.error.issues), { title: 'moduleTitle' });
  return renamed(await send<ModuleEnvelope>(event, `/courses/${courseId}/modules`, 'POST', parsed.data, values, ['title']), { title: 'moduleTitle' });
}

function renamed<T>(outcome: Outcome<T>, names: Record<string, string>): Outcome<T> {
  if (outcome.ok) return outcome;
  const fieldErrors = Object.fromEntries(Object.entries(outcome.failure.fieldErrors).map(([k, v]) => [names[k] ?? k, v]));
  return { ...outcome, failure: { ...outcome.failure, fieldErrors } };
}

/** A new lesson needs only a title and a kind; everything else is set in its editor. */
export async function addLesson(event: RequestEvent): Promise<Outcome<AuthorLessonDto> & { moduleId: string }> {
  const form = await event.request.formData();
  const moduleId = formString(form, 'moduleId');
  const values = { moduleId, lessonTitle: formString(form, 'lessonTitle'), kind: formString(form, 'kind') };
  const kind = (LESSON_KINDS as readonly string[]).includes(values.kind) ? values.kind : 'text';
  // The API creates a quiz only with its questions: a starter question, written over in the quiz editor next.
  const starter = kind === 'quiz' ? { quiz: { questions: [{ kind: 'single', prompt: 'Your first question', options: ['An answer', 'Another answer'], correct: [0] }] } } : {};
  const parsed = CreateLessonInput.safeParse({ title: values.lessonTitle, kind, ...starter });
  if (!parsed.success) return { ...renamed(invalid(values, parsed.error.issues), { title: 'lessonTitle' }), moduleId };
  const sent = await send<AuthorLessonEnvelope>(event, `/modules/${encodeURIComponent(moduleId)}/lessons`, 'POST', parsed.data, values, ['title', 'kind']);
  const outcome = renamed(sent, { title: 'lessonTitle' });
  return outcome.ok ? { ok: true, data: outcome.data.lesson, moduleId } : { ...outcome, moduleId };
}

export async function fetchAuthorLesson(event: Caller, lessonId: string): Promise<ApiResult<AuthorLessonDto>> {
  const result = await apiRequest<LessonEnvelope>(event, `/api/v1/lessons/${lessonId}?edit=1`, auth(event));
  if (!result.ok) return result;
  if (!('authorLesson' in result.data)) return { ok: false, status: 403, error: { code: 'forbidden', message: 'Only the course’s authors can edit this lesson.' } };
  return { ...result, data: result.data.authorLesson };
}

export async function saveLesson(event: RequestEvent, lesson: AuthorLessonDto): Promise<Outcome<AuthorLessonDto>> {
  const parsed = parseLessonForm(await event.request.formData(), lesson.kind);
  if (!parsed.ok) return { ok: false, status: 400, failure: parsed.failure };
  const sent = await send<AuthorLessonEnvelope>(event, `/lessons/${lesson.id}`, 'PATCH', parsed.input, parsed.values, LESSON_FIELDS);
  if (sent.ok) return { ok: true, data: sent.data.lesson };
  // The API names the release as one field; the form has one per release type.
  const { release, ...rest } = sent.failure.fieldErrors;
  return { ...sent, failure: { ...sent.failure, fieldErrors: release ? { ...rest, releaseDays: release } : rest } };
}

export async function deleteLesson(event: RequestEvent, lessonId: string): Promise<{ ok: true } | { ok: false; status: number; message: string }> {
  const result = await apiRequest<unknown>(event, `/api/v1/lessons/${lessonId}`, { method: 'DELETE', ...auth(event) });
  return result.ok ? { ok: true } : { ok: false, status: result.status, message: generalMessage(result.error) };
}

/** The outline editor sends the whole order as JSON in one field; the API takes it in one PUT. */
export async function saveOutline(event: RequestEvent, courseId: string): Promise<{ ok: true } | { ok: false; status: number; message: string }> {
  const form = await event.request.formData();
  let outline: unknown;
  try {
    outline = JSON.parse(formString(form, 'outline'));
  } catch {
    outline = null;
  }
  const parsed = OutlineInput.safeParse(outline);
  if (!parsed.success) return { ok: false, status: 400, message: 'The new order could not be read. Reload the page and try again.' };
  const result = await apiRequest<unknown>(event, `/api/v1/courses/${courseId}/outline`, { method: 'PUT', body: parsed.data, ...auth(event) });
  return result.ok ? { ok: true } : { ok: false, status: result.status, message: generalMessage(result.error) };
}

/** Classes a live lesson may point at: those of the course's community. */
export async function fetchLessonClassrooms(event: Caller, communityId: string | null): Promise<ClassroomDto[]> {
  if (!communityId) return [];
  const result = await fetchClassrooms(event, communityId);
  return result.ok ? result.data : [];
}

// ---------------------------------------------------------------- grading and analytics

export async function fetchSubmissions(event: Caller, courseId: string, status: SubmissionStatus): Promise<ApiResult<SubmissionDto[]>> {
  const query = new URLSearchParams({ status, limit: '100' });
  const result = await apiRequest<SubmissionPage>(event, `/api/v1/courses/${courseId}/submissions?${query}`, auth(event));
  return mapResult(result, (page) => page.data);
}

export const GRADE_FIELDS = ['scorePercent', 'feedback'] as const;

export async function gradeSubmission(event: RequestEvent): Promise<Outcome<SubmissionDto> & { submissionId: string }> {
  const form = await event.request.formData();
  const submissionId = formString(form, 'submissionId');
  const values = { scorePercent: formString(form, 'scorePercent'), feedback: formString(form, 'feedback') };
  const score = /^\s*\d{1,3}\s*$/.test(values.scorePercent) ? Number(values.scorePercent) : NaN;
  const parsed = GradeSubmissionInput.safeParse({ scorePercent: score, feedback: values.feedback });
  if (!parsed.success) {
    const outcome = invalid(values, parsed.error.issues);
    if (!outcome.ok && Number.isNaN(score)) outcome.failure.fieldErrors.scorePercent = 'Enter a score from 0 to 100.';
    return { ...outcome, submissionId };
  }
  const sent = await send<SubmissionEnvelope>(event, `/submissions/${encodeURIComponent(submissionId)}/grade`, 'POST', parsed.data, values, GRADE_FIELDS);
  return sent.ok ? { ok: true, data: sent.data.submission, submissionId } : { ...sent, submissionId };
}

export function fetchAnalytics(event: Caller, courseId: string): Promise<ApiResult<CourseAnalyticsDto>> {
  return apiRequest<CourseAnalyticsDto>(event, `/api/v1/courses/${courseId}/analytics`, auth(event));
}

// ---------------------------------------------------------------- ebooks

export const EBOOK_FIELDS = ['title', 'author', 'description', 'communityId', 'price', 'currency', 'coverAssetId'] as const;

function parseEbookForm(form: FormData, mode: 'create' | 'update') {
  const values = Object.fromEntries(EBOOK_FIELDS.map((f) => [f, formString(form, f)]));
  const priceMinor = priceToMinor(values.price ?? '');
  const currency = (values.currency ?? '').trim().toUpperCase();
  const cover = (values.coverAssetId ?? '').trim();
  const common = { title: values.title, author: values.author, description: values.description, priceMinor: priceMinor ?? 0 };
  const parsed =
    mode === 'create'
      ? CreateEbookInput.safeParse({
          ...common,
          ...(currency && priceMinor ? { currency } : {}),
          ...(values.communityId ? { communityId: values.communityId } : {}),
          ...(cover ? { coverAssetId: cover } : {}),
        })
      : UpdateEbookInput.safeParse({ ...common, currency: currency && priceMinor ? currency : null, coverAssetId: cover || null });
  return { values, parsed, priceOk: priceMinor !== null };
}

function ebookFormFailure(values: Record<string, string>, issues: readonly { path: readonly PropertyKey[]; message: string }[], priceOk: boolean): Outcome<never> {
  const outcome = invalid(values, issues);
  if (!outcome.ok) {
    const errors = outcome.failure.fieldErrors;
    if (errors.priceMinor) errors.price = errors.priceMinor;
    if (!priceOk) errors.price = 'Enter a price such as 9.90, or leave it empty for a free ebook.';
  }
  return outcome;
}

export async function createEbook(event: RequestEvent): Promise<Outcome<EbookDetailDto>> {
  const { values, parsed, priceOk } = parseEbookForm(await event.request.formData(), 'create');
  if (!parsed.success || !priceOk) return ebookFormFailure(values, parsed.success ? [] : parsed.error.issues, priceOk);
  const sent = await send<EbookEnvelope>(event, '/ebooks', 'POST', parsed.data, values, EBOOK_FIELDS);
  return sent.ok ? { ok: true, data: sent.data.ebook } : priceFailure(sent);
}

export async function updateEbook(event: RequestEvent, ebookId: string): Promise<Outcome<EbookDetailDto>> {
  const { values, parsed, priceOk } = parseEbookForm(await event.request.formData(), 'update');
  if (!parsed.success || !priceOk) return ebookFormFailure(values, parsed.success ? [] : parsed.error.issues, priceOk);
  const sent = await send<EbookEnvelope>(event, `/ebooks/${ebookId}`, 'PATCH', parsed.data, values, EBOOK_FIELDS);
  return sent.ok ? { ok: true, data: sent.data.ebook } : priceFailure(sent);
}

export async function fetchEbook(event: Caller, ebookId: string): Promise<ApiResult<EbookDetailDto>> {
  const result = await apiRequest<EbookEnvelope>(event, `/api/v1/ebooks/${ebookId}`, auth(event));
  return mapResult(result, (body) => body.ebook);
}

export async function fetchChapterSource(event: Caller, ebookId: string, chapterId: string): Promise<ApiResult<ChapterSourceDto>> {
  const result = await apiRequest<ChapterSourceEnvelope>(event, `/api/v1/ebooks/${ebookId}/chapters/${chapterId}/source`, auth(event));
  return mapResult(result, (body) => body.chapter);
}

export const CHAPTER_FIELDS = ['title', 'body'] as const;

export async function saveChapter(event: RequestEvent, ebookId: string, chapterId: string | null): Promise<Outcome<ChapterSourceDto>> {
  const form = await event.request.formData();
  const values = { title: formString(form, 'title'), body: formString(form, 'body') };
  const parsed = (chapterId ? UpdateChapterInput : CreateChapterInput).safeParse(values);
  if (!parsed.success) return invalid(values, parsed.error.issues);
  const sent = chapterId
    ? await send<ChapterSourceEnvelope>(event, `/ebooks/${ebookId}/chapters/${chapterId}`, 'PATCH', parsed.data, values, CHAPTER_FIELDS)
    : await send<ChapterSourceEnvelope>(event, `/ebooks/${ebookId}/chapters`, 'POST', parsed.data, values, CHAPTER_FIELDS);
  return sent.ok ? { ok: true, data: sent.data.chapter } : sent;
}

export async function ebookCommand(
  event: RequestEvent,
  ebookId: string,
  command: 'publish' | 'unpublish' | 'import' | 'reorder' | 'deleteChapter',
): Promise<{ ok: true; imported?: number } | { ok: false; status: number; message: string }> {
  const form = await event.request.formData();
  let request: { path: string; method: 'POST' | 'PUT' | 'DELETE'; body?: unknown };
  if (command === 'import') {
    const parsed = ImportEpubInput.safeParse({ assetId: formString(form, 'assetId') });
    if (!parsed.success) return { ok: false, status: 400, message: 'Upload an .epub file first.' };
    request = { path: `/ebooks/${ebookId}/import`, method: 'POST', body: parsed.data };
  } else if (command === 'reorder') {
    let chapterIds: unknown;
    try {
      chapterIds = JSON.parse(formString(form, 'chapterIds'));
    } catch {
      chapterIds = null;
    }
    const parsed = ReorderChaptersInput.safeParse({ chapterIds });
    if (!parsed.success) return { ok: false, status: 400, message: 'The new order could not be read. Reload the page and try again.' };
    request = { path: `/ebooks/${ebookId}/chapters/order`, method: 'PUT', body: parsed.data };
  } else if (command === 'deleteChapter') {
    request = { path: `/ebooks/${ebookId}/chapters/${encodeURIComponent(formString(form, 'chapterId'))}`, method: 'DELETE' };
  } else {
    request = { path: `/ebooks/${ebookId}/${command}`, method: 'POST' };
  }
  const result = await apiRequest<unknown>(event, `/api/v1${request.path}`, { method: request.method, body: request.body, ...auth(event) });
  if (!result.ok) return { ok: false, status: result.status, message: generalMessage(result.error) };
  if (command === 'import') return { ok: true, imported: (result.data as ImportResultDto).imported.length };
  return { ok: true };
}

/** The attached file's display name (the API signs a fresh URL each time; the editor needs only the name). */
export async function fetchLessonAsset(event: Caller, assetId: string): Promise<{ id: string; name: string }> {
  const result = await apiRequest<OwnedAssetEnvelope>(event, `/api/v1/assets/${assetId}`, auth(event));
  return { id: assetId, name: result.ok ? result.data.asset.name : 'Attached file' };
}
