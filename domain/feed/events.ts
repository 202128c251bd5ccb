import type { ReactionDto } from '../../contracts/chat.ts';
import type { PostDto } from '../../contracts/feed.ts';
import type { CommentEventDto } from './presenters.ts';

/*
 * The feed's domain events, emitted after commit. They describe what changed in the MEMBERS' view of a community's
 * feed, so each is emitted only when that view changed: a comment created under a hidden post, or a hidden post
 * deleted, announces nothing. Post and comment payloads are the caller's view as the operation presented it; listeners
 * that address members strip per-viewer fields themselves (clientEvents.ts).
 *
 * Changes to what members can read of a post are also recorded durably (deps.events.record) in their transaction, so
 * search follows them even if the node dies right after the commit: `post.created`, `post.hidden`, `post.restored`,
 * `post.deleted`, and `post.updated` for an edit of its text only — a pin or a poll vote emits `post.updated` without
 * recording it. A durable listener had better read the post again than trust the DTO: that is the actor's view at the
 * time, and its job may run after later changes.
 */
declare module '../shared/events.ts' {
  interface DomainEvents {
    /** A member posted. */
    'post.created': { post: PostDto };
    /** Its body was edited, it was pinned or unpinned, or its poll's counts moved. */
    'post.updated': { post: PostDto };
    /** A moderator unhid it (or restored it otherwise): members see it again. */
    'post.restored': { post: PostDto };
    /** Deleted by its author or a moderator. `version`: the post's version that change produced. */
    'post.deleted': { communityId: string; postId: string; version: number };
    /** Hidden by a moderator. */
    'post.hidden': { communityId: string; postId: string; version: number };
    'comment.created': { comment: CommentEventDto };
    /**
     * Durable, recorded in the comment's transaction (so a node dying after the commit still notifies): a comment was
     * stored; `repliedToId` is the comment the author answered (a reply to a reply is stored under its thread's top).
     */
    'comment.written': { commentId: string; repliedToId: string | null };
    'comment.updated': { comment: CommentEventDto };
    /**
     * Unhidden by a moderator; a top-level comment comes back with its visible replies, in that order (the replies'
     * versions move on too: clients dropped them with their parent).
     */
    'comment.restored': { comments: CommentEventDto[] };
    /** Deleted by its author or a moderator; a top-level comment takes its replies with it. */
    'comment.deleted': { communityId: string; postId: string; commentId: string; version: number };
    'comment.hidden': { communityId: string; postId: string; commentId: string; version: number };
    /** The reactions on a post (commentId null) or on one of its comments, after a toggle; `version` is that item's. */
    'reactions.updated': { communityId: string; postId: string; commentId: string | null; reactions: ReactionDto[]; version: number };
    /** Someone started following someone (not emitted when they already did). */
    'user.followed': { followerId: string; followeeId: string };
  }
}
