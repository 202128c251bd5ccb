import { fail, redirect } from '@sveltejs/kit';
import { uuidParam } from '$lib/server/load.ts';
import { addLesson, addModule, fetchManagedCommunities, publishCourse, saveOutline, updateCourse } from '$lib/server/teach.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => ({ communities: await fetchManagedCommunities(event) });

async function publishing(event: Parameters<Actions[string]>[0], publish: boolean) {
  const outcome = await publishCourse(event, uuidParam(event.params.courseId ?? ''), publish);
  if (!outcome.ok) return fail(outcome.status, { publish: { ok: false, message: outcome.message, published: !publish } });
  return { publish: { ok: true, message: null, published: publish } };
}

export const actions: Actions = {
  saveDetails: async (event) => {
    const outcome = await updateCourse(event, uuidParam(event.params.courseId ?? ''));
    if (!outcome.ok) return fail(outcome.status, { details: outcome.failure });
    return { detailsSaved: true };
  },
  addModule: async (event) => {
    const outcome = await addModule(event, uuidParam(event.params.courseId ?? ''));
    if (!outcome.ok) return fail(outcome.status, { addModule: outcome.failure });
    return { moduleAdded: true };
  },
  addLesson: async (event) => {
    const courseId = uuidParam(event.params.courseId ?? '');
    const outcome = await addLesson(event);
    if (!outcome.ok) return fail(outcome.status, { addLesson: { ...outcome.failure, moduleId: outcome.moduleId } });
    redirect(303, `/app/teach/courses/${courseId}/lessons/${outcome.data.id}`);
  },
  saveOutline: async (event) => {
    const outcome = await saveOutline(event, uuidParam(event.params.courseId ?? ''));
    if (!outcome.ok) return fail(outcome.status, { outline: { ok: false, message: outcome.message } });
    return { outline: { ok: true, message: null } };
  },
  publish: (event) => publishing(event, true),
  unpublish: (event) => publishing(event, false),
};
