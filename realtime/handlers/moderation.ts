import { CommunityIdInput } from '../../contracts/feed.ts';
import { rooms } from '../../contracts/realtime.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { authorizeQueueSubscription } from '../../domain/moderation/cases.ts';
import { withAck, type On } from '../withAck.ts';

/**
 * `moderation:subscribe {communityId}`: a moderator of that community (or platform staff) starts hearing its queue
 * live — `moderation:case_created`, `moderation:case_updated`. Demotion or removal takes the socket out again.
 */
export function registerModerationHandlers(on: On, deps: Deps) {
  on(
    'moderation:subscribe',
    withAck(CommunityIdInput, async ({ communityId }, { socket, actor }) => {
      await authorizeQueueSubscription(deps, actor, communityId);
      await socket.join(rooms.moderation(communityId));
      return { communityId };
    }),
  );
  on(
    'moderation:unsubscribe',
    withAck(CommunityIdInput, async ({ communityId }, { socket }) => {
      await socket.leave(rooms.moderation(communityId));
      return { communityId };
    }),
  );
}
