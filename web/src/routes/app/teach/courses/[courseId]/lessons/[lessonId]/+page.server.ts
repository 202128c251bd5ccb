import { error, fail, redirect } from '@sveltejs/kit';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import { deleteLesson, fetchAuthorLesson, fetchLessonAsset, fetchLessonClassrooms, saveLesson } from '$lib/server/teach.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const { course } = await event.parent();
  const lesson = dataOrError(await fetchAuthorLesson(event, uuidParam(event.params.lessonId)));
  if (lesson.courseId !== course.id) error(404, 'Not found');
  const [asset, classrooms] = await Promise.all([
    lesson.assetId ? fetchLessonAsset(event, lesson.assetId) : null,
    lesson.kind === 'live' ? fetchLessonClassrooms(event, course.communityId) : [],
  ]);
  return { lesson, asset, classrooms };
};

export const actions: Actions = {
  save: async (event) => {
    const lesson = dataOrError(await fetchAuthorLesson(event, uuidParam(event.params.lessonId)));
    const outcome = await saveLesson(event, lesson);
    if (!outcome.ok) return fail(outcome.status, { save: outcome.failure });
    return { saved: true };
  },
  delete: async (event) => {
    const courseId = uuidParam(event.params.courseId);
    const outcome = await deleteLesson(event, uuidParam(event.params.lessonId));
    if (!outcome.ok) return fail(outcome.status, { deleteError: outcome.message });
    redirect(303, `/app/teach/courses/${courseId}`);
  },
};
