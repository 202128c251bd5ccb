import type { LessonKind } from '$contracts/courses.ts';

export const LESSON_KIND_LABELS: Record<LessonKind, string> = {
  text: 'Reading',
  video: 'Video',
  file: 'Download',
  quiz: 'Quiz',
  assignment: 'Assignment',
  live: 'Live class',
};
