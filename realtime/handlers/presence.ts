import { PresenceSetInput } from '../../contracts/chat.ts';
import type { RealtimePresence } from '../presence.ts';
import type { IoSocket } from '../types.ts';
import { ackListener, withAck, type AckKit } from '../withAck.ts';

/** `presence:set {status}`: any signed-in user sets their own status; observers hear of it with the next batch. */
export function registerPresenceHandlers(kit: AckKit, socket: IoSocket, presence: RealtimePresence) {
  const on = ackListener(kit, socket);
  on(
    'presence:set',
    withAck(PresenceSetInput, async ({ status }, { actor }) => {
      await presence.choose(actor.userId, status);
      return { status };
    }),
  );
}
