import { dataOrError, uuidParam } from '$lib/server/load.ts';
import { fetchPublicProfile } from '$lib/server/profiles.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => ({ profile: dataOrError(await fetchPublicProfile(event, uuidParam(event.params.userId))) });
