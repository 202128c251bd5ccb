import { CommunityIdInput } from '../../contracts/feed.ts';
import { rooms } from '../../contracts/realtime.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { authorizeQueueSubscription } from '../../domain/moderation/cases.ts';
import type { IoSocket } from '../types.ts';
import { withAck, type AckKit } from '../withAck.ts';

/**
 * `moderation:subscribe {communityId}`: a moderator of that community (or platform staff) starts hearing its queue
 * live — `moderation:case_created`, `moderation:case_updated`. Demotion or removal takes the socket out again.
 */
export function registerModerationHandlers(kit: AckKit, socket: IoSocket, deps: Deps) {
  socket.on(
    'moderation:subscribe',
    withAck(kit, socket, 'moderation:subscribe', CommunityIdInput, async ({ communityId }, { actor }) => {
      await authorizeQueueSubscription(deps, actor, communityId);
      await socket.join(rooms.moderation(communityId));
      return { communityId };
    }),
  );
  socket.on(
    'moderation:unsubscribe',
    withAck(kit, socket, 'moderation:unsubscribe', CommunityIdInput, async ({ communityId }) => {
      await socket.leave(rooms.moderation(communityId));
      return { communityId };
    }),
  );
}
