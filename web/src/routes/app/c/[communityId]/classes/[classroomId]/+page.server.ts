import { fail, redirect } from '@sveltejs/kit';
import { CohostInput } from '$contracts/classrooms.ts';
import { formString, generalMessage } from '$lib/forms.ts';
import { classroomCommand, fetchClassroom, fetchRegistrations } from '$lib/server/classrooms.ts';
import { runClassroomCommand } from '$lib/server/classroomActions.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  event.depends('app:classes');
  const communityId = uuidParam(event.params.communityId);
  const classroomId = uuidParam(event.params.classroomId);
  const classroom = dataOrError(await fetchClassroom(event, classroomId));
  if (classroom.communityId !== communityId) redirect(303, `/app/c/${classroom.communityId}/classes/${classroom.id}`);
  const { community } = await event.parent();
  const manages = classroom.myRole === 'host' || community.myRole === 'owner' || community.myRole === 'admin';
  const registrations = manages ? await fetchRegistrations(event, classroomId) : null;
  return {
    classroom,
    manages,
    registrations: registrations?.ok ? registrations.data : null,
    registrationsError: registrations && !registrations.ok ? generalMessage(registrations.error) : null,
  };
};

export const actions: Actions = {
  register: (event) => runClassroomCommand(event, 'register'),
  unregister: (event) => runClassroomCommand(event, 'unregister'),
  end: (event) => runClassroomCommand(event, 'end'),
  cancel: (event) => runClassroomCommand(event, 'cancel'),
  start: async (event) => {
    const result = await runClassroomCommand(event, 'start');
    if ('status' in result) return result;
    // Starting is the moment to go in and teach.
    redirect(303, `/app/c/${uuidParam(event.params.communityId)}/classes/${uuidParam(event.params.classroomId)}/live`);
  },
  addCohost: async (event) => {
    const classroomId = uuidParam(event.params.classroomId);
    const form = await event.request.formData();
    const parsed = CohostInput.safeParse({ userId: formString(form, 'userId') });
    if (!parsed.success) return fail(400, { cohost: { ok: false, message: 'Pick a member to add as co-host.' } });
    const result = await classroomCommand(event, classroomId, 'cohosts', { body: parsed.data });
    if (!result.ok) return fail(result.status, { cohost: { ok: false, message: generalMessage(result.error) } });
    return { cohost: { ok: true, message: 'Co-host added.' } };
  },
};
