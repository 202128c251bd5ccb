import { forwardPut } from '$lib/server/courses.ts';
import { uuidParam } from '$lib/server/load.ts';
import type { RequestHandler } from './$types';

/** The video player saves where the learner is (PUT /lessons/:id/position through the session). */
export const PUT: RequestHandler = (event) => forwardPut(event, `/api/v1/lessons/${uuidParam(event.params.lessonId)}/position`);
