import { PresenceSetInput, PresenceWatchInput } from '../../contracts/chat.ts';
import { FocusInput } from '../../contracts/notifications.ts';
import type { RealtimePresence } from '../presence.ts';
import { withAck, type On } from '../withAck.ts';

/** `presence:set {status}`: any signed-in user sets their own status; observers hear of it with the next batch. */
export function registerPresenceHandlers(on: On, presence: RealtimePresence) {
  on(
    'presence:set',
    withAck(PresenceSetInput, async ({ status }, { actor }) => {
      await presence.choose(actor.userId, status);
      return { status };
    }),
  );
  // `presence:watch {add, remove}`: follow the presence of the people this tab shows (those the user may see).
  on(
    'presence:watch',
    withAck(PresenceWatchInput, (change, { socket }) => presence.watch(socket, change)),
  );
  // `presence:focus {focused}`: a direct message notifies only while none of the person's tabs is focused.
  on(
    'presence:focus',
    withAck(FocusInput, async ({ focused }, { socket }) => {
      await presence.focus(socket, focused);
      return null;
    }),
  );
}
