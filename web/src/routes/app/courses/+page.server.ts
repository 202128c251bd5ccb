import { COURSE_LEVELS, type CourseLevel } from '$contracts/courses.ts';
import { generalMessage } from '$lib/forms.ts';
import { fetchCatalogue, fetchMyCommunities, fetchMyCourses, type CatalogueFilters } from '$lib/server/courses.ts';
import { dataOrError } from '$lib/server/load.ts';
import type { PageServerLoad } from './$types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const load: PageServerLoad = async (event) => {
  const params = event.url.searchParams;
  const level = params.get('level');
  const tag = (params.get('tag') ?? '').trim().toLowerCase().slice(0, 40);
  const communityId = params.get('community') ?? '';
  const filters: CatalogueFilters = {
    level: (COURSE_LEVELS as readonly string[]).includes(level ?? '') ? (level as CourseLevel) : null,
    tag: tag || null,
    communityId: UUID.test(communityId) ? communityId.toLowerCase() : null,
  };
  const cursor = params.get('cursor');
  const [catalogue, mine, communities] = await Promise.all([
    fetchCatalogue(event, filters, cursor),
    fetchMyCourses(event),
    fetchMyCommunities(event),
  ]);
  const page = dataOrError(catalogue);
  return {
    filters,
    courses: page.data,
    nextCursor: page.nextCursor,
    paged: Boolean(cursor),
    myCourses: mine.ok ? mine.data.data : [],
    myCoursesError: mine.ok ? null : generalMessage(mine.error),
    communities,
  };
};
