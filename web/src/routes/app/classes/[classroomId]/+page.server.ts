import { redirect } from '@sveltejs/kit';
import { fetchClassroom } from '$lib/server/classrooms.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { PageServerLoad } from './$types';

/** Notices only know the class; its page lives under its community. */
export const load: PageServerLoad = async (event) => {
  const classroom = dataOrError(await fetchClassroom(event, uuidParam(event.params.classroomId)));
  redirect(303, `/app/c/${classroom.communityId}/classes/${classroom.id}`);
};
