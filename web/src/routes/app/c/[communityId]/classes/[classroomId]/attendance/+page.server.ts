import { redirect } from '@sveltejs/kit';
import { fetchAttendance } from '$lib/server/classrooms.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const communityId = uuidParam(event.params.communityId);
  const classroomId = uuidParam(event.params.classroomId);
  const report = dataOrError(await fetchAttendance(event, classroomId));
  if (report.classroomId !== classroomId) redirect(303, `/app/c/${communityId}/classes/${classroomId}`);
  return { report };
};
