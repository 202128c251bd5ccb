import { fail, redirect } from '@sveltejs/kit';
import { fetchClassrooms } from '$lib/server/classrooms.ts';
import { runClassroomCommand, scheduleClass } from '$lib/server/classroomActions.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  event.depends('app:classes');
  const communityId = uuidParam(event.params.communityId);
  const classrooms = dataOrError(await fetchClassrooms(event, communityId));
  // Live first, then by start time: what can be joined now matters most.
  const ordered = [...classrooms].sort(
    (a, b) => Number(b.status === 'live') - Number(a.status === 'live') || a.startsAt.localeCompare(b.startsAt),
  );
  return { classrooms: ordered };
};

export const actions: Actions = {
  schedule: async (event) => {
    const communityId = uuidParam(event.params.communityId);
    const outcome = await scheduleClass(event, communityId);
    if (!outcome.ok) return fail(outcome.status, { schedule: outcome.failure });
    redirect(303, `/app/c/${communityId}/classes/${outcome.classroom.id}`);
  },
  register: (event) => runClassroomCommand(event, 'register'),
  unregister: (event) => runClassroomCommand(event, 'unregister'),
};
