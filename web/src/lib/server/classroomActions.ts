import { fail, type RequestEvent } from '@sveltejs/kit';
import { CreateClassroomInput, type ClassroomDto, type ClassroomEnvelope } from '$contracts/classrooms.ts';
import { startsAtFromLocal } from '$lib/classes.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, formString, generalMessage, type FormFailure } from '$lib/forms.ts';
import { apiRequest } from './api.ts';
import { classroomCommand } from './classrooms.ts';
import { uuidParam } from './load.ts';

export const SCHEDULE_FIELDS = ['title', 'description', 'startsAt', 'durationMinutes', 'capacity', 'waitingRoom'] as const;

function wholeNumber(raw: string): number | null {
  return /^\s*\d{1,6}\s*$/.test(raw) ? Number(raw) : null;
}

/**
 * Schedules a class from the form. The browser's time-zone offset rides along in a hidden field so the wall-clock
 * time the person picked means the same instant here.
 */
export async function scheduleClass(
  event: RequestEvent,
  communityId: string,
): Promise<{ ok: true; classroom: ClassroomDto } | { ok: false; status: number; failure: FormFailure }> {
  const form = await event.request.formData();
  const values = Object.fromEntries(SCHEDULE_FIELDS.map((f) => [f, formString(form, f)]));
  const offset = Number(formString(form, 'tzOffset') || '0');
  const fieldErrors: Record<string, string> = {};
  const startsAt = startsAtFromLocal(values.startsAt ?? '', offset);
  if (!startsAt) fieldErrors.startsAt = 'Pick the date and time the class starts.';
  const durationMinutes = wholeNumber(values.durationMinutes ?? '');
  if (durationMinutes === null) fieldErrors.durationMinutes = 'Enter the length in whole minutes.';
  const capacity = wholeNumber(values.capacity ?? '');
  if (capacity === null) fieldErrors.capacity = 'Enter how many learners can take part.';
  const parsed = CreateClassroomInput.safeParse({
    communityId,
    title: values.title,
    description: values.description,
    startsAt: startsAt ?? undefined,
    durationMinutes: durationMinutes ?? undefined,
    capacity: capacity ?? undefined,
    waitingRoom: values.waitingRoom === 'on',
  });
  if (!parsed.success || Object.keys(fieldErrors).length > 0) {
    const issues = parsed.success ? {} : fieldErrorsFromIssues(parsed.error.issues);
    return { ok: false, status: 400, failure: { values, fieldErrors: { ...issues, ...fieldErrors }, message: CHECK_FIELDS_MESSAGE } };
  }
  const result = await apiRequest<ClassroomEnvelope>(event, '/api/v1/classrooms', {
    method: 'POST',
    body: parsed.data,
    token: event.locals.accessToken,
  });
  if (!result.ok) return { ok: false, status: result.status, failure: failureFromApi(result.error, values, SCHEDULE_FIELDS) };
  return { ok: true, classroom: result.data.classroom };
}

/** One of the buttons on a class (register, start…): the class id comes from the route or a hidden field. */
async function classroomIdOf(event: RequestEvent): Promise<string> {
  if (event.params.classroomId) return uuidParam(event.params.classroomId);
  const form = await event.request.formData();
  return uuidParam(formString(form, 'classroomId'));
}

type Command = 'register' | 'unregister' | 'start' | 'end' | 'cancel';

const REQUESTS: Record<Command, { path: string; method: 'POST' | 'DELETE' }> = {
  register: { path: 'register', method: 'POST' },
  unregister: { path: 'register', method: 'DELETE' },
  start: { path: 'start', method: 'POST' },
  end: { path: 'end', method: 'POST' },
  cancel: { path: 'cancel', method: 'POST' },
};

/**
 * Runs a class command and reports under `command` in the page's form data; on success the page's load runs again
 * and shows the new state (seats, waitlist position, status).
 */
export async function runClassroomCommand(event: RequestEvent, command: Command) {
  const classroomId = await classroomIdOf(event);
  const { path, method } = REQUESTS[command];
  const result = await classroomCommand(event, classroomId, path, { method });
  if (!result.ok) {
    return fail(result.status, { command: { name: command, classroomId, ok: false, message: generalMessage(result.error) } });
  }
  return { command: { name: command, classroomId, ok: true, message: null } };
}
