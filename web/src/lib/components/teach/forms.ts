/*
 * The builder's forms as the API's inputs: pure functions from FormData to the contract's input (validated by its zod
 * schema) or to what the form shows back. Shared by the form actions; no secrets here.
 */
import {
  CreateCourseInput,
  QuizInput,
  ReleaseInput,
  UpdateCourseInput,
  UpdateLessonInput,
  type CreateCourseInput as CreateCourse,
  type LessonKind,
  type UpdateCourseInput as UpdateCourse,
  type UpdateLessonInput as UpdateLesson,
} from '$contracts/courses.ts';
import { startsAtFromLocal } from '$lib/classes.ts';
import { CHECK_FIELDS_MESSAGE, fieldErrorsFromIssues, formString, type FieldErrors, type FormFailure } from '$lib/forms.ts';

export type Parsed<T> = { ok: true; input: T; values: Record<string, string> } | { ok: false; failure: FormFailure };

export const COURSE_FIELDS = ['title', 'summary', 'description', 'level', 'tags', 'language', 'communityId', 'price', 'currency', 'coverAssetId'] as const;

/** "19.90" → 1990 minor units; null when it is not an amount with at most two decimals. */
export function priceToMinor(text: string): number | null {
  const trimmed = text.trim().replace(',', '.');
  if (trimmed === '') return 0;
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(trimmed)) return null;
  const [whole, cents = ''] = trimmed.split('.');
  return Number(whole) * 100 + Number(cents.padEnd(2, '0'));
}

/** 1990 → "19.90"; 0 → "". */
export function minorToPrice(minor: number): string {
  return minor === 0 ? '' : `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}

export function parseTags(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

function failed(values: Record<string, string>, fieldErrors: FieldErrors): { ok: false; failure: FormFailure } {
  return { ok: false, failure: { values, fieldErrors, message: CHECK_FIELDS_MESSAGE } };
}

/** The course details form, for a new course (`create`) or changes to one. */
export function parseCourseForm(form: FormData, mode: 'create'): Parsed<CreateCourse>;
export function parseCourseForm(form: FormData, mode: 'update'): Parsed<UpdateCourse>;
export function parseCourseForm(form: FormData, mode: 'create' | 'update'): Parsed<CreateCourse | UpdateCourse> {
  const values = Object.fromEntries(COURSE_FIELDS.map((f) => [f, formString(form, f)]));
  const fieldErrors: FieldErrors = {};
  const priceMinor = priceToMinor(values.price ?? '');
  if (priceMinor === null) fieldErrors.price = 'Enter a price such as 19.90, or leave it empty for a free course.';
  const currency = (values.currency ?? '').trim();
  const common = {
    title: values.title,
    summary: values.summary,
    description: values.description,
    level: values.level,
    tags: parseTags(values.tags ?? ''),
    language: (values.language ?? '').trim() || 'en',
    priceMinor: priceMinor ?? 0,
  };
  const cover = (values.coverAssetId ?? '').trim();
  const parsed =
    mode === 'create'
      ? CreateCourseInput.safeParse({
          ...common,
          ...(currency && priceMinor ? { currency } : {}),
          ...(values.communityId ? { communityId: values.communityId } : {}),
          ...(cover ? { coverAssetId: cover } : {}),
        })
      : UpdateCourseInput.safeParse({ ...common, currency: currency && priceMinor ? currency : null, coverAssetId: cover || null });
  if (!parsed.success || Object.keys(fieldErrors).length > 0) {
    const issues = parsed.success ? {} : fieldErrorsFromIssues(parsed.error.issues);
    if (issues.priceMinor) issues.price = issues.priceMinor;
    if (issues.coverAssetId) issues.cover = issues.coverAssetId;
    return failed(values, { ...issues, ...fieldErrors });
  }
  return { ok: true, input: parsed.data, values };
}

export const LESSON_FIELDS = [
  'title',
  'body',
  'assetId',
  'classroomId',
  'durationMinutes',
  'preview',
  'required',
  'releaseType',
  'releaseDays',
  'releaseAt',
  'quiz',
  'passPercent',
  'maxAttempts',
] as const;

function optionalWhole(text: string | undefined): number | null | undefined {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return null;
  return /^\d{1,6}$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** The release radio group and its two fields; the browser's offset makes a picked wall-clock time one instant. */
export function parseRelease(form: FormData, fieldErrors: FieldErrors): ReleaseInput | null {
  const type = formString(form, 'releaseType') || 'immediate';
  if (type === 'afterEnrolment') {
    const days = optionalWhole(formString(form, 'releaseDays'));
    if (days === null || days === undefined) {
      fieldErrors.releaseDays = 'Enter the number of days after enrolment.';
      return null;
    }
    return { type, days };
  }
  if (type === 'onDate') {
    const at = startsAtFromLocal(formString(form, 'releaseAt'), Number(formString(form, 'tzOffset') || '0'));
    if (!at) {
      fieldErrors.releaseAt = 'Pick the date and time the lesson opens.';
      return null;
    }
    return { type, at };
  }
  return { type: 'immediate' };
}

/** The lesson editor's form. Which fields count depends on the lesson's kind (a text lesson has no quiz). */
export function parseLessonForm(form: FormData, kind: LessonKind): Parsed<UpdateLesson> {
  const values = Object.fromEntries(LESSON_FIELDS.map((f) => [f, formString(form, f)]));
  values.tzOffset = formString(form, 'tzOffset');
  const fieldErrors: FieldErrors = {};
  const release = parseRelease(form, fieldErrors);
  const input: Record<string, unknown> = {
    title: values.title,
    body: values.body,
    preview: values.preview === 'on',
    required: values.required === 'on',
    ...(release ? { release: ReleaseInput.parse(release) } : {}),
  };
  if (kind === 'video' || kind === 'file') input.assetId = (values.assetId ?? '').trim() || null;
  if (kind === 'live') input.classroomId = (values.classroomId ?? '').trim() || null;
  if (kind === 'video' || kind === 'live') {
    const duration = optionalWhole(values.durationMinutes);
    if (duration === undefined) fieldErrors.durationMinutes = 'Enter whole minutes, or leave it empty.';
    else input.durationMinutes = duration;
  }
  if (kind === 'quiz' || kind === 'assignment') {
    const pass = optionalWhole(values.passPercent);
    if (pass === undefined || (pass !== null && pass > 100)) fieldErrors.passPercent = 'Enter a pass mark from 0 to 100, or leave it empty.';
    else input.passPercent = pass;
  }
  if (kind === 'quiz') {
    const attempts = optionalWhole(values.maxAttempts);
    if (attempts === undefined || attempts === 0) fieldErrors.maxAttempts = 'Enter how many attempts (1 or more), or leave it empty for unlimited.';
    else input.maxAttempts = attempts;
    let quiz: unknown;
    try {
      quiz = JSON.parse(values.quiz || 'null');
    } catch {
      quiz = null;
    }
    const parsedQuiz = QuizInput.safeParse(quiz);
    if (!parsedQuiz.success) {
      const issue = parsedQuiz.error.issues[0];
      fieldErrors.quiz = quizIssueText(issue);
    } else input.quiz = parsedQuiz.data;
  }
  const parsed = UpdateLessonInput.safeParse(input);
  if (!parsed.success || Object.keys(fieldErrors).length > 0) {
    const issues = parsed.success ? {} : fieldErrorsFromIssues(parsed.error.issues);
    if (issues.release) issues.releaseDays = issues.release;
    return failed(values, { ...issues, ...fieldErrors });
  }
  return { ok: true, input: parsed.data, values };
}

/** "Question 2: A question needs at least 2 options." */
export function quizIssueText(issue: { path: readonly PropertyKey[]; message: string } | undefined): string {
  if (!issue) return 'Check the questions.';
  const [first, index] = issue.path;
  if (first === 'questions' && typeof index === 'number') return `Question ${index + 1}: ${issue.message}`;
  return issue.message;
}
