import type { Deps } from '../shared/deps.ts';
import type { EventBus } from '../shared/events.ts';
import './events.ts';

/** Web push: sends new notifications to the recipient's subscribed devices (VAPID), per their preferences. */
export function registerPushDelivery(bus: EventBus, deps: Deps): void {
  void bus;
  void deps;
}
