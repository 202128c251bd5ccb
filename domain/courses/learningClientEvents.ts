import { rooms } from '../../contracts/realtime.ts';
import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';
import './learningEvents.ts';

/*
 * Graded work and certificates reach the learner's own room, so each of their devices hears it on whichever node it is
 * connected to (the publisher goes through the cluster emitter). `certificate.issued` is recorded durably
 * (certificates.ts), so it is published by the job runner of some node; a retried job may announce a certificate
 * twice, which a client keyed by certificate id shrugs off.
 */

/** Turns graded work and certificates into wire events for the learner's own room. */
export function registerCourseLearningClientEvents(bus: EventBus, publisher: Publisher): void {
  bus.on('submission.graded', ({ learnerId, ...event }) => publisher.toRoom(rooms.user(learnerId), 'submission:graded', event));
  bus.onDurable('certificate.issued', 'announceCertificate', async ({ userId, certificateId, courseId, courseTitle, issuedAt }) => {
    publisher.toRoom(rooms.user(userId), 'certificate:issued', { certificateId, courseId, courseTitle, issuedAt });
  });
}
