import { HelloInput } from '../../contracts/realtime.ts';
import { withAck, type On } from '../withAck.ts';

/** A cheap round trip clients use to confirm the connection is authenticated and live. */
export function registerSessionHandlers(on: On) {
  on(
    'session:hello',
    withAck(HelloInput, (_input, { actor }) => ({
      userId: actor.userId,
      sessionId: actor.sessionId,
      serverTime: new Date().toISOString(),
    })),
  );
}
