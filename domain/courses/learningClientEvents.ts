import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';

/** Turns graded work and certificates into wire events for the learner's own room. */
export function registerCourseLearningClientEvents(_bus: EventBus, _publisher: Publisher): void {}
