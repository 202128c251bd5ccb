import type { PostDto } from '../../contracts/feed.ts';
import { rooms } from '../../contracts/realtime.ts';
import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';
import type { CommentEventDto } from './presenters.ts';

/*
 * Live feed events, published once to the community's feed room (through the cluster emitter, so they reach
 * subscribers on every node). Payloads are the members' view: never hidden or deleted content, and no per-viewer
 * fields (a poll's myVote is null). Mutes and blocks are per viewer while a room broadcast is one payload for all, so
 * every event carries the author id and clients drop authors they muted or blocked; REST stays authoritative.
 *
 * How clients apply them: feed:comment_deleted for a top-level comment takes its replies too (one level of replies);
 * feed:post_created may also bring back a post a moderator unhid, so it is inserted by createdAt, not always on top;
 * feed:post_updated and feed:reaction_updated for a post the client does not hold are ignored (a post deleted or
 * hidden meanwhile stays gone). Each event names its item's version (domain/feed/versions.ts): of two events for one
 * item, the higher version is the later change, whichever arrives first.
 */

const membersPost = (post: PostDto): PostDto => ({ ...post, hidden: false, poll: post.poll && { ...post.poll, myVote: null } });
const membersComment = (comment: CommentEventDto): CommentEventDto => ({ ...comment, hidden: false });

/** Turns the feed's domain events into the feed room's wire events. */
export function registerFeedClientEvents(bus: EventBus, publisher: Publisher): void {
  const toFeed = (communityId: string) => rooms.feed(communityId);

  bus.on('post.created', ({ post }) => publisher.toRoom(toFeed(post.communityId), 'feed:post_created', membersPost(post)));
  bus.on('post.restored', ({ post }) => publisher.toRoom(toFeed(post.communityId), 'feed:post_created', membersPost(post)));
  bus.on('post.updated', ({ post }) => publisher.toRoom(toFeed(post.communityId), 'feed:post_updated', membersPost(post)));
  for (const gone of ['post.deleted', 'post.hidden'] as const) {
    bus.on(gone, ({ communityId, postId, version }) =>
      publisher.toRoom(toFeed(communityId), 'feed:post_deleted', { communityId, postId, version }),
    );
  }

  bus.on('comment.created', ({ comment }) =>
    publisher.toRoom(toFeed(comment.communityId), 'feed:comment_created', membersComment(comment)),
  );
  bus.on('comment.updated', ({ comment }) =>
    publisher.toRoom(toFeed(comment.communityId), 'feed:comment_updated', membersComment(comment)),
  );
  bus.on('comment.restored', ({ comments }) => {
    for (const comment of comments) publisher.toRoom(toFeed(comment.communityId), 'feed:comment_created', membersComment(comment));
  });
  for (const gone of ['comment.deleted', 'comment.hidden'] as const) {
    bus.on(gone, ({ communityId, postId, commentId, version }) =>
      publisher.toRoom(toFeed(communityId), 'feed:comment_deleted', { communityId, postId, commentId, version }),
    );
  }

  bus.on('reactions.updated', ({ communityId, postId, commentId, reactions, version }) =>
    publisher.toRoom(toFeed(communityId), 'feed:reaction_updated', { communityId, postId, commentId, reactions, version }),
  );
}
