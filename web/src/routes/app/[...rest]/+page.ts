import { error } from '@sveltejs/kit';
import type { PageLoad } from './$types';

/**
 * An address under /app that no page answers: SvelteKit would show the root error page, outside the app's shell.
 * Matching it here (rest parameters rank below every other route) keeps the header and navigation around the 404.
 */
export const load: PageLoad = () => {
  error(404, 'Not found');
};
