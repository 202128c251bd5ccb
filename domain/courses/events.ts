import type { ProgressUpdatedEvent } from '../../contracts/courses.ts';

/*
 * The courses' domain events, emitted after commit. Channel membership of the course discussion travels with the
 * channel events (`channel.added`, `channel.access_revoked`), like any other channel. `course.published`,
 * `course.unpublished` and `course.updated` are also recorded durably (deps.events.record) in the transaction of the
 * change, wherever they are emitted, so catalogues and search follow every committed change even if the node dies
 * right after the commit. Courses are never deleted (unpublishing takes one away).
 */

declare module '../shared/events.ts' {
  interface DomainEvents {
    /** Learners can find and enrol in the course now. */
    'course.published': { courseId: string; communityId: string | null; title: string };
    /** Gone from the catalogue and from its learners (authors keep it). */
    'course.unpublished': { courseId: string; communityId: string | null };
    /** The course's details, outline, modules or lessons changed. */
    'course.updated': { courseId: string };
    /** A learner was enrolled: by themself (`free`), by staff (`grant`) or by buying the course (`order`). */
    'course.enrolled': { courseId: string; userId: string; source: 'free' | 'grant' | 'order' };
    /** A learner completed a lesson (read it, or passed its quiz or assignment). */
    'lesson.completed': { courseId: string; lessonId: string; userId: string };
    /** A learner's progress in a course changed: their other devices follow along. */
    'progress.updated': { userId: string; progress: ProgressUpdatedEvent };
  }
}

export {};
