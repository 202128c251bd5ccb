import type { SubmissionGradedEvent } from '../../contracts/courseLearning.ts';

/*
 * Domain events of graded course work. `submission.graded` is emitted after the grading transaction commits (its
 * learner hears it live, on whichever node their sockets are). `certificate.issued` is RECORDED inside the transaction
 * that earned it (deps.events.record): the certificate is issued from several places (a passing quiz, a passing
 * grade, a completed lesson in the course core), most of which would otherwise each have to remember to emit it after
 * their commit; recorded, it reaches its durable listeners iff the certificate exists, even if the node dies right
 * after the commit. Its payload travels as JSON (ids, plain values, the time as an ISO string).
 */

declare module '../shared/events.ts' {
  interface DomainEvents {
    /** An author graded (or re-graded) a submission. */
    'submission.graded': SubmissionGradedEvent & { learnerId: string };
    /** A learner met the course's last requirement; issued once per learner and course. */
    'certificate.issued': { certificateId: string; courseId: string; userId: string; courseTitle: string; issuedAt: string };
  }
}

export {};
