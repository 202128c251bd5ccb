import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';

/** Turns the ebooks domain events into wire events for the learner's own room. */
export function registerEbookClientEvents(_bus: EventBus, _publisher: Publisher): void {}
