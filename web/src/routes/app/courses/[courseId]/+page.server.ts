import { fail } from '@sveltejs/kit';
import { generalMessage } from '$lib/forms.ts';
import { enrol, fetchCourse, fetchMyCertificates } from '$lib/server/courses.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  event.depends('app:course');
  const courseId = uuidParam(event.params.courseId);
  const [detail, certificates] = await Promise.all([fetchCourse(event, courseId), fetchMyCertificates(event)]);
  const certificate = certificates.ok ? (certificates.data.data.find((c) => c.courseId === courseId) ?? null) : null;
  return { detail: dataOrError(detail), certificate };
};

export const actions: Actions = {
  enrol: async (event) => {
    const courseId = uuidParam(event.params.courseId);
    const result = await enrol(event, courseId);
    // A priced course answers 409 with the API's own sentence ("buy it first").
    if (!result.ok) return fail(result.status, { enrol: { message: generalMessage(result.error), conflict: result.error.code === 'conflict' } });
    return { enrol: { message: null, conflict: false } };
  },
};
