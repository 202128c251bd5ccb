import type { ChannelEnvelope } from '$contracts/communities.ts';
import type { CourseDetailDto } from '$contracts/courses.ts';
import { apiRequest } from '$lib/server/api.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const courseId = uuidParam(event.params.courseId);
  const token = event.locals.accessToken;
  const [detail, discussion] = await Promise.all([
    apiRequest<CourseDetailDto>(event, `/api/v1/courses/${courseId}`, { token }),
    apiRequest<ChannelEnvelope>(event, `/api/v1/courses/${courseId}/discussion`, { token }),
  ]);
  return { course: dataOrError(detail).course, channel: dataOrError(discussion).channel };
};
