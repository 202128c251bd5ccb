import type { ReactionDto } from '../../contracts/chat.ts';
import type { PostDto } from '../../contracts/feed.ts';
import { rooms } from '../../contracts/realtime.ts';
import type { Deps } from '../shared/deps.ts';
import type { CommentEventDto } from './presenters.ts';

/*
 * Live feed events, published once to the community's feed room after commit (through the cluster emitter, so they
 * reach subscribers on every node). Payloads are the members' view: never hidden or deleted content, and no per-viewer
 * fields (a poll's myVote is null). Mutes and blocks are per viewer while a room broadcast is one payload for all, so
 * every event carries the author id and clients drop authors they muted or blocked; REST stays authoritative.
 *
 * How clients apply them: feed:comment_deleted for a top-level comment takes its replies too (one level of replies);
 * feed:post_created may also bring back a post a moderator unhid, so it is inserted by createdAt, not always on top;
 * feed:post_updated and feed:reaction_updated for a post the client does not hold are ignored (a post deleted or
 * hidden meanwhile stays gone).
 */

export function publishPost(deps: Deps, event: 'feed:post_created' | 'feed:post_updated', post: PostDto): void {
  deps.publisher.toRoom(rooms.feed(post.communityId), event, { ...post, hidden: false, poll: post.poll && { ...post.poll, myVote: null } });
}

export function publishPostDeleted(deps: Deps, communityId: string, postId: string): void {
  deps.publisher.toRoom(rooms.feed(communityId), 'feed:post_deleted', { communityId, postId });
}

export function publishComment(deps: Deps, event: 'feed:comment_created' | 'feed:comment_updated', comment: CommentEventDto): void {
  deps.publisher.toRoom(rooms.feed(comment.communityId), event, { ...comment, hidden: false });
}

export function publishCommentDeleted(deps: Deps, communityId: string, postId: string, commentId: string): void {
  deps.publisher.toRoom(rooms.feed(communityId), 'feed:comment_deleted', { communityId, postId, commentId });
}

export function publishReactions(
  deps: Deps,
  target: { communityId: string; postId: string; commentId: string | null },
  reactions: ReactionDto[],
): void {
  deps.publisher.toRoom(rooms.feed(target.communityId), 'feed:reaction_updated', { ...target, reactions });
}
