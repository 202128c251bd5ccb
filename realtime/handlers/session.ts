import { z } from 'zod';
import type { AckKit } from '../withAck.ts';
import { withAck } from '../withAck.ts';
import type { IoSocket } from '../types.ts';

const HelloInput = z.strictObject({});

/** A cheap round trip clients use to confirm the connection is authenticated and live. */
export function registerSessionHandlers(kit: AckKit, socket: IoSocket) {
  socket.on(
    'session:hello',
    withAck(kit, socket, 'session:hello', HelloInput, (_input, { actor }) => ({
      userId: actor.userId,
      sessionId: actor.sessionId,
      serverTime: new Date().toISOString(),
    })),
  );
}
