import { redirect } from '@sveltejs/kit';
import { fetchClassroom } from '$lib/server/classrooms.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const communityId = uuidParam(event.params.communityId);
  const classroom = dataOrError(await fetchClassroom(event, uuidParam(event.params.classroomId)));
  if (classroom.communityId !== communityId) redirect(303, `/app/c/${classroom.communityId}/classes/${classroom.id}/live`);
  return { classroom };
};
