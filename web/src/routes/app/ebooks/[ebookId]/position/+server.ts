import { forwardPut } from '$lib/server/courses.ts';
import { uuidParam } from '$lib/server/load.ts';
import type { RequestHandler } from './$types';

/** The reader saves its place here (PUT /ebooks/:id/position through the session). */
export const PUT: RequestHandler = (event) => forwardPut(event, `/api/v1/ebooks/${uuidParam(event.params.ebookId)}/position`);
