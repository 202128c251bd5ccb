import { CommunityIdInput } from '../../contracts/feed.ts';
import { rooms } from '../../contracts/realtime.ts';
import { authorizeFeedSubscription } from '../../domain/access/feed.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { withAck, type On } from '../withAck.ts';

/**
 * `feed:subscribe {communityId}`: someone who may read the community's feed starts hearing its live events
 * (feed:post_created … feed:reaction_updated, published by the domain after commit). Losing access takes the socket
 * out again (revokeCommunityAccess), on every node.
 */
export function registerFeedHandlers(on: On, deps: Deps) {
  on(
    'feed:subscribe',
    withAck(CommunityIdInput, async ({ communityId }, { socket, actor }) => {
      await authorizeFeedSubscription(deps, actor, communityId);
      const room = rooms.feed(communityId);
      await socket.join(room);
      // A removal that landed between the check and the join emptied the room before we were in it: check again now
      // that we are, so a removed member never stays subscribed.
      try {
        await authorizeFeedSubscription(deps, actor, communityId);
      } catch (err) {
        await socket.leave(room);
        throw err;
      }
      return { communityId };
    }),
  );
  on(
    'feed:unsubscribe',
    withAck(CommunityIdInput, async ({ communityId }, { socket }) => {
      await socket.leave(rooms.feed(communityId));
      return { communityId };
    }),
  );
}
