import { HelloInput } from '../../contracts/realtime.ts';
import type { IoSocket } from '../types.ts';
import { ackListener, withAck, type AckKit } from '../withAck.ts';

/** A cheap round trip clients use to confirm the connection is authenticated and live. */
export function registerSessionHandlers(kit: AckKit, socket: IoSocket) {
  const on = ackListener(kit, socket);
  on(
    'session:hello',
    withAck(HelloInput, (_input, { actor }) => ({
      userId: actor.userId,
      sessionId: actor.sessionId,
      serverTime: new Date().toISOString(),
    })),
  );
}
