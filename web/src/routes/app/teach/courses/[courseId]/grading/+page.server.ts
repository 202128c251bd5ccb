import { fail } from '@sveltejs/kit';
import { dataOrError } from '$lib/server/load.ts';
import { fetchSubmissions, gradeSubmission } from '$lib/server/teach.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const { course } = await event.parent();
  const status = event.url.searchParams.get('status') === 'graded' ? 'graded' : 'submitted';
  const submissions = dataOrError(await fetchSubmissions(event, course.id, status));
  const openId = event.url.searchParams.get('open');
  return { status, submissions, openId, open: submissions.find((s) => s.id === openId) ?? null } as const;
};

export const actions: Actions = {
  grade: async (event) => {
    const outcome = await gradeSubmission(event);
    if (!outcome.ok) return fail(outcome.status, { grade: { ...outcome.failure, submissionId: outcome.submissionId } });
    return { graded: outcome.data };
  },
};
