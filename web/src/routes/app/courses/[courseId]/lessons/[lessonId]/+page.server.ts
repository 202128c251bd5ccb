import { fail, redirect } from '@sveltejs/kit';
import { MAX_SUBMISSION_TEXT, SubmitAssignmentInput, SubmitAttemptInput, type QuizAnswerInput } from '$contracts/courseLearning.ts';
import { formString, generalMessage } from '$lib/forms.ts';
import {
  completeLesson,
  fetchAttempts,
  fetchCourse,
  fetchLesson,
  fetchMyCertificates,
  fetchSubmissions,
  submitAssignment,
  submitAttempt,
  uploadAsset,
} from '$lib/server/courses.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  event.depends('app:course');
  const courseId = uuidParam(event.params.courseId);
  const lessonId = uuidParam(event.params.lessonId);
  const detail = dataOrError(await fetchCourse(event, courseId));
  const outlineLessons = detail.modules.flatMap((m) => m.lessons);
  const entry = outlineLessons.find((l) => l.id === lessonId);
  if (!entry) redirect(303, `/app/courses/${courseId}`);
  const index = outlineLessons.indexOf(entry);
  const neighbours = { previous: outlineLessons[index - 1] ?? null, next: outlineLessons[index + 1] ?? null };
  // A locked lesson is shown as such from the outline (when it opens); its body is not asked for.
  if (entry.locked) return { detail, entry, neighbours, lesson: null, attempts: null, submissions: null, certificate: null };

  const lesson = dataOrError(await fetchLesson(event, lessonId));
  const [attempts, submissions, certificates] = await Promise.all([
    lesson.kind === 'quiz' ? fetchAttempts(event, lessonId) : null,
    lesson.kind === 'assignment' ? fetchSubmissions(event, lessonId) : null,
    fetchMyCertificates(event),
  ]);
  return {
    detail,
    entry,
    neighbours,
    lesson,
    attempts: attempts?.ok ? attempts.data : null,
    submissions: submissions?.ok ? submissions.data.data : null,
    certificate: certificates.ok ? (certificates.data.data.find((c) => c.courseId === courseId) ?? null) : null,
  };
};

/** The quiz form's fields: `q-<questionId>` (radio or checkboxes: option indexes; short answers: text). */
function quizAnswers(form: FormData, questionIds: string[]): QuizAnswerInput[] {
  const answers: QuizAnswerInput[] = [];
  for (const id of questionIds) {
    const kind = formString(form, `kind-${id}`);
    if (kind === 'short') {
      const text = formString(form, `q-${id}`).trim();
      if (text) answers.push({ questionId: id, text });
    } else {
      const choice = form
        .getAll(`q-${id}`)
        .map((v) => Number(v))
        .filter((n) => Number.isInteger(n) && n >= 0);
      if (choice.length > 0) answers.push({ questionId: id, choice });
    }
  }
  return answers;
}

export const actions: Actions = {
  complete: async (event) => {
    const lessonId = uuidParam(event.params.lessonId);
    const result = await completeLesson(event, lessonId);
    if (!result.ok) return fail(result.status, { complete: { ok: false as const, message: generalMessage(result.error) } });
    return { complete: { ok: true as const, progress: result.data.progress, certificateId: result.data.certificateId } };
  },

  quiz: async (event) => {
    const lessonId = uuidParam(event.params.lessonId);
    const form = await event.request.formData();
    const questionIds = form
      .getAll('questionId')
      .filter((v): v is string => typeof v === 'string')
      .slice(0, 200);
    const answers = quizAnswers(form, questionIds);
    const values = Object.fromEntries(questionIds.map((id) => [id, form.getAll(`q-${id}`).map(String)]));
    const parsed = SubmitAttemptInput.safeParse({ answers });
    if (!parsed.success) return fail(400, { quiz: { ok: false as const, message: 'Check your answers and try again.', values } });
    if (answers.length < questionIds.length) {
      return fail(400, { quiz: { ok: false as const, message: 'Answer every question before you submit.', values } });
    }
    const result = await submitAttempt(event, lessonId, parsed.data);
    if (!result.ok) return fail(result.status, { quiz: { ok: false as const, message: generalMessage(result.error), values } });
    return { quiz: { ok: true as const, result: result.data, values } };
  },

  submit: async (event) => {
    const lessonId = uuidParam(event.params.lessonId);
    const form = await event.request.formData();
    const text = formString(form, 'text').slice(0, MAX_SUBMISSION_TEXT);
    const file = form.get('file');
    const assetIds: string[] = [];
    if (file instanceof File && file.size > 0) {
      const upload = await uploadAsset(event, file);
      if (!upload.ok) return fail(upload.status, { submit: { ok: false as const, message: generalMessage(upload.error), text } });
      assetIds.push(upload.data.asset.id);
    }
    const parsed = SubmitAssignmentInput.safeParse({ text, assetIds });
    if (!parsed.success) {
      return fail(400, { submit: { ok: false as const, message: parsed.error.issues[0]?.message ?? 'Write something or attach a file.', text } });
    }
    const result = await submitAssignment(event, lessonId, parsed.data);
    if (!result.ok) return fail(result.status, { submit: { ok: false as const, message: generalMessage(result.error), text } });
    return { submit: { ok: true as const, message: 'Submitted. Your instructor will grade it.', text: '' } };
  },
};
