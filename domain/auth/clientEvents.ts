import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';

/** A revoked session's sockets, on every node, are told (`session:revoked`) and then disconnected. */
export function registerAuthClientEvents(bus: EventBus, publisher: Publisher): void {
  bus.on('session.revoked', (payload) => publisher.revokeSession(payload));
}
