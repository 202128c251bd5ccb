import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';

/** Turns the courses domain events into wire events for the learner's own room. */
export function registerCourseClientEvents(_bus: EventBus, _publisher: Publisher): void {}
