import { z } from 'zod';

/** Courses: authoring, catalogue, enrolment, lessons, progress (wire shapes for REST and sockets). */

/** Live course events, sent to the learner's own room (`rooms.user`) so their other devices follow along. */
export interface CourseServerEvents {
  'progress:updated': (event: ProgressUpdatedEvent) => void;
}

export const ProgressUpdatedEvent = z.object({
  courseId: z.uuid(),
  completedLessonIds: z.array(z.uuid()),
  percent: z.number().int().min(0).max(100),
  lastLessonId: z.uuid().nullable(),
});
export type ProgressUpdatedEvent = z.infer<typeof ProgressUpdatedEvent>;
