import type { Deps } from '../shared/deps.ts';
import type { EventBus } from '../shared/events.ts';
import './events.ts';

/** Notifications from learning, commerce, social and moderation events (graded, certificate, order, follower, …). */
export function registerActivityNotifications(bus: EventBus, deps: Deps): void {
  void bus;
  void deps;
}
