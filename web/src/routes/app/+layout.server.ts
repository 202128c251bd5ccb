import { redirect } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals }) => {
  // The hook already redirects signed-out requests; this narrows the type for the pages below.
  if (!locals.user) redirect(303, '/signin');
  return { user: locals.user };
};
