import type { LessonKind, ReleaseInput } from '$contracts/courses.ts';

export const KIND_LABELS: Record<LessonKind, string> = {
  text: 'Text',
  video: 'Video',
  file: 'File',
  quiz: 'Quiz',
  assignment: 'Assignment',
  live: 'Live class',
};

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "Opens 7 days after enrolment" */
export function releaseText(release: ReleaseInput): string {
  switch (release.type) {
    case 'immediate':
      return 'Open at once';
    case 'afterEnrolment':
      return release.days === 0 ? 'Opens on enrolment' : `Opens ${release.days} ${release.days === 1 ? 'day' : 'days'} after enrolment`;
    case 'onDate':
      return `Opens ${DATE.format(new Date(release.at))}`;
  }
}
