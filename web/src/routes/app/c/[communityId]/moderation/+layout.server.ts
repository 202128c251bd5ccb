import { consoleRights, requireRight } from '$lib/server/moderation.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async ({ parent }) => {
  const { community, user } = await parent();
  const rights = consoleRights(community, user);
  requireRight(rights.moderate);
  return { rights };
};
