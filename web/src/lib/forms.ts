import type { ErrorBody } from '$contracts/errors.ts';

/** Field name → message shown beside that field. */
export type FieldErrors = Record<string, string>;

/** What a failed form action hands back to its page (never the password). */
export interface FormFailure {
  values: Record<string, string>;
  fieldErrors: FieldErrors;
  message: string | null;
}

export const CHECK_FIELDS_MESSAGE = 'Check the highlighted fields and try again.';

/** A FormData entry as a string; files and missing entries become ''. */
export function formString(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}

/** Field messages from zod issues: the first problem per top-level field wins, so each field shows one clear message. */
export function fieldErrorsFromIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const field = issue.path[0];
    if (typeof field !== 'string' || field in errors) continue;
    errors[field] = issue.message;
  }
  return errors;
}

/** Field messages from an API `invalid_input` error (`details.fields`); anything malformed is ignored. */
export function fieldErrorsFromApi(error: ErrorBody): FieldErrors {
  if (error.code !== 'invalid_input') return {};
  const details = error.details;
  if (typeof details !== 'object' || details === null || !('fields' in details)) return {};
  const fields = (details as { fields: unknown }).fields;
  if (typeof fields !== 'object' || fields === null) return {};
  const errors: FieldErrors = {};
  for (const [name, message] of Object.entries(fields)) {
    if (typeof message === 'string' && message.trim() !== '') errors[name] = message;
    else if (Array.isArray(message) && typeof message[0] === 'string') errors[name] = message[0];
  }
  return errors;
}

/** The sentence shown above a form for an API error. */
export function generalMessage(error: ErrorBody): string {
  switch (error.code) {
    case 'rate_limited': {
      const seconds = typeof error.retryAfter === 'number' && error.retryAfter > 0 ? Math.ceil(error.retryAfter) : null;
      return seconds === null ? 'Too many attempts, try again in a moment.' : `Too many attempts, try again in ${seconds} s`;
    }
    case 'unavailable':
    case 'internal':
      return 'Edulure is not reachable right now. Please try again in a moment.';
    case 'invalid_input':
      return error.message || CHECK_FIELDS_MESSAGE;
    case 'forbidden':
      return timeoutSentence(error) ?? error.message;
    default:
      return error.message;
  }
}

const UNTIL_FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * A moderator's timeout, in the reader's time: the server's sentence carries a machine timestamp, and the same
 * instant in `details.timedOutUntil`. Null for any other refusal.
 */
export function timeoutSentence(error: ErrorBody): string | null {
  const until = (error.details as { timedOutUntil?: unknown } | null | undefined)?.timedOutUntil;
  if (typeof until !== 'string' || Number.isNaN(Date.parse(until))) return null;
  return `You are timed out in this community until ${UNTIL_FORMAT.format(new Date(until))}.`;
}

/**
 * Turns an API error into what the form shows. Messages for fields the form does not render are folded into the
 * general message, so no error is ever silently dropped. `conflictField` puts a 409 beside the field that caused it
 * (the e-mail on sign-up).
 */
export function failureFromApi(
  error: ErrorBody,
  values: Record<string, string>,
  formFields: readonly string[],
  conflictField?: string,
): FormFailure {
  const fieldErrors: FieldErrors = {};
  const stray: string[] = [];
  for (const [name, message] of Object.entries(fieldErrorsFromApi(error))) {
    if (formFields.includes(name)) fieldErrors[name] = message;
    else stray.push(message);
  }
  if (error.code === 'conflict' && conflictField && formFields.includes(conflictField)) {
    fieldErrors[conflictField] = error.message;
  }
  let message = generalMessage(error);
  if (error.code === 'invalid_input' && Object.keys(fieldErrors).length > 0 && stray.length === 0) {
    message = CHECK_FIELDS_MESSAGE;
  } else if (stray.length > 0) {
    message = [message, ...stray].join(' ');
  }
  return { values, fieldErrors, message };
}

/**
 * Where to go after signing in. Only same-site paths inside the app are accepted, so a crafted `?next=` link cannot
 * bounce a fresh session to another site.
 */
export function safeNextPath(raw: string | null | undefined): string {
  if (!raw) return '/app';
  if (!raw.startsWith('/app') || raw.startsWith('//') || raw.includes('\\')) return '/app';
  try {
    const url = new URL(raw, 'http://edulure.invalid');
    if (url.origin !== 'http://edulure.invalid') return '/app';
    if (url.pathname !== '/app' && !url.pathname.startsWith('/app/')) return '/app';
    return url.pathname + url.search;
  } catch {
    return '/app';
  }
}
