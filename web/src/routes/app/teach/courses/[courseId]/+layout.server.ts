import { error } from '@sveltejs/kit';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import { fetchCourse } from '$lib/server/teach.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async (event) => {
  const detail = dataOrError(await fetchCourse(event, uuidParam(event.params.courseId)));
  // The API refuses every authoring call to others too; this says so before showing forms that cannot work.
  if (!detail.course.me?.author) error(403, 'Only this course’s authors can open the builder.');
  return { course: detail.course, modules: detail.modules };
};
