/* eslint-disable svelte/prefer-svelte-reactivity -- the sets here are private bookkeeping; what the UI renders is
   published through $state fields. */
import type { UserRef } from '$contracts/communities.ts';
import type { AckResult } from '$contracts/errors.ts';
import type { CommentDto, FeedPage, PostDto } from '$contracts/feed.ts';
import { ackOf, chatErrorMessage, DEFAULT_ACK_TIMEOUT_MS, type ChatSocket } from './ack.ts';
import { feedApi, type FeedApi, type FeedSource } from './feedApi.ts';
import { FeedModel } from './feedModel.ts';
import { LiveStore, type Listen } from './liveStore.svelte.ts';

export type { FeedSource } from './feedApi.ts';

export interface LiveFeedOptions {
  source: FeedSource;
  me: UserRef;
  /** The first page, loaded with the page. */
  initial: FeedPage;
  api?: FeedApi;
  ackTimeoutMs?: number;
}

/** The home feed follows the communities of the posts on it, up to this many. */
const MAX_HOME_ROOMS = 20;

/**
 * A feed on screen, kept live (a LiveStore): subscribes to the community's feed room (and again after every reconnect,
 * catching up on the first page), holds new posts from others behind the banner until the reader shows them, and
 * applies edits, deletions, comments and reactions in place. Actions go over REST and apply the API's answer at once;
 * the matching event, arriving later or earlier, changes nothing more. Every post and comment carries its own server
 * version, and events apply per item by it (FeedModel, NewestByKey), not by arrival: two changes to one post that
 * commit close together on two nodes may be delivered in either order, and the later commit wins — a hide over an
 * edit published after it, an unhide over a hide delivered late.
 */
export class LiveFeed extends LiveStore {
  readonly source: FeedSource;
  readonly me: UserRef;
  posts = $state.raw<PostDto[]>([]);
  /** New posts by others, waiting behind the banner (newest first). */
  incoming = $state.raw<PostDto[]>([]);
  /** Known comments by post id, oldest first. */
  comments = $state.raw<Record<string, CommentDto[]>>({});
  /** Posts whose comments have been loaded. */
  loaded = $state.raw<ReadonlySet<string>>(new Set());
  /** Where each post's older comments continue (null: all loaded). */
  commentCursors = $state.raw<Record<string, string | null>>({});
  nextCursor = $state<string | null>(null);
  loadingMore = $state(false);
  loadError = $state<string | null>(null);
  liveProblem = $state<string | null>(null);

  #model: FeedModel;
  #api: FeedApi;
  #ackTimeoutMs: number;
  #rooms = new Set<string>();
  #asking = new Set<string>();

  constructor(options: LiveFeedOptions) {
    super();
    this.source = options.source;
    this.me = options.me;
    this.#api = options.api ?? feedApi;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.#model = new FeedModel({ mode: options.source.kind, myId: options.me.id });
    this.#model.reset(options.initial);
    this.#publish();
  }

  // ---- live ----------------------------------------------------------------------------------------------------

  protected listen(on: Listen): void {
    on('feed:post_created', (post) => this.#ifFollowed(post.communityId, () => this.#model.postCreated(post)));
    on('feed:post_updated', (post) => this.#ifFollowed(post.communityId, () => this.#model.postUpdated(post, { fromEvent: true })));
    on('feed:post_deleted', (e) => this.#ifFollowed(e.communityId, () => this.#model.postDeleted(e.postId, e.version)));
    on('feed:comment_created', (c) =>
      this.#ifFollowed(c.communityId, () => this.#model.commentCreated(stripCommunity(c), { fromEvent: true })),
    );
    on('feed:comment_updated', (c) =>
      this.#ifFollowed(c.communityId, () => this.#model.commentUpdated(stripCommunity(c), { fromEvent: true })),
    );
    on('feed:comment_deleted', (e) => this.#ifFollowed(e.communityId, () => this.#model.commentDeleted(e.postId, e.commentId, e.version)));
    on('feed:reaction_updated', (e) => this.#ifFollowed(e.communityId, () => this.#model.reactionUpdated(e, { fromEvent: true })));
  }

  protected override unsubscribe(socket: ChatSocket): void {
    for (const communityId of this.#rooms) socket.emit('feed:unsubscribe', { communityId }, () => {});
  }

  override detach(): void {
    super.detach();
    this.#rooms.clear();
  }

  /** Puts the waiting posts on the page; returns them so the view can move focus to the first. */
  reveal(): PostDto[] {
    const shown = this.#model.reveal();
    this.#publish();
    void this.#followRooms();
    return shown;
  }

  protected subscribe(): Promise<boolean> {
    this.#rooms.clear();
    return this.#followRooms();
  }

  /**
   * Whatever happened before the subscription took hold (since the page loaded, or while the connection was down): the
   * first page again.
   */
  protected override async catchUp(): Promise<void> {
    const knownBefore = this.#model.knownIds();
    const result = await this.#api.page(this.source, null);
    if (!result.ok || this.destroyed) return;
    this.#model.refreshHead(result.data, knownBefore);
    this.#publish();
  }

  /** Joins the feed rooms this feed needs and has not joined yet. Returns false when the server refused them all. */
  async #followRooms(): Promise<boolean> {
    const socket = this.socket;
    if (!socket?.connected) return false;
    const wanted =
      this.source.kind === 'community'
        ? [this.source.communityId]
        : [...new Set(this.posts.map((p) => p.communityId))].slice(0, MAX_HOME_ROOMS);
    const missing = wanted.filter((id) => !this.#rooms.has(id));
    if (missing.length === 0) return this.#rooms.size > 0 || wanted.length === 0;
    const results = await Promise.all(
      missing.map(async (communityId) => {
        this.#asking.add(communityId);
        const result = await ackOf<{ communityId: string }>((ack) => socket.emit('feed:subscribe', { communityId }, ack), this.#ackTimeoutMs);
        this.#asking.delete(communityId);
        if (result.ok && this.following(socket)) this.#rooms.add(communityId);
        return result;
      }),
    );
    const failure = results.find((r) => !r.ok);
    // The home feed may include communities the reader cannot follow live (public ones they have not joined).
    if (this.source.kind === 'community') this.liveProblem = failure && !failure.ok ? chatErrorMessage(failure.error) : null;
    return this.#rooms.size > 0;
  }

  #ifFollowed(communityId: string, apply: () => unknown): void {
    if (!this.socket || this.destroyed) return;
    // The server puts the socket in the room before it answers, so events may come just ahead of the ack.
    const followed = this.source.kind === 'community' ? communityId === this.source.communityId : this.#rooms.has(communityId) || this.#asking.has(communityId);
    if (!followed) return;
    apply();
    this.#publish();
  }

  // ---- pages ---------------------------------------------------------------------------------------------------

  async loadMore(): Promise<void> {
    if (this.loadingMore || !this.nextCursor) return;
    this.loadingMore = true;
    this.loadError = null;
    const result = await this.#api.page(this.source, this.nextCursor);
    this.loadingMore = false;
    if (this.destroyed) return;
    if (!result.ok) {
      this.loadError = chatErrorMessage(result.error);
      return;
    }
    this.#model.appendPage(result.data);
    this.#publish();
    void this.#followRooms();
  }

  // ---- posts ---------------------------------------------------------------------------------------------------

  /** The reader's own new post, from the API's answer. */
  addMine(post: PostDto): void {
    this.#model.addMine(post);
    this.#publish();
  }

  editPost(postId: string, body: string): Promise<string | null> {
    return this.#run(this.#api.editPost(postId, body), (post) => this.#model.postUpdated(post, { fromEvent: false }));
  }

  deletePost(postId: string): Promise<string | null> {
    return this.#run(this.#api.deletePost(postId), () => this.#model.postDeleted(postId));
  }

  pin(postId: string, pinned: boolean): Promise<string | null> {
    return this.#run(this.#api.pin(postId, pinned), (post) => this.#model.postUpdated(post, { fromEvent: false }));
  }

  vote(postId: string, option: number): Promise<string | null> {
    return this.#run(this.#api.vote(postId, option), (post) => this.#model.postUpdated(post, { fromEvent: false }));
  }

  reactToPost(postId: string, emoji: string): Promise<string | null> {
    return this.#run(this.#api.reactToPost(postId, emoji), ({ reactions, version }) =>
      this.#model.reactionUpdated({ postId, commentId: null, reactions, version }, { fromEvent: false }),
    );
  }

  /** Someone the reader muted or blocked: their posts and comments leave this feed. */
  hideAuthor(userId: string): void {
    this.#model.hideAuthor(userId);
    this.#publish();
  }

  showAuthor(userId: string): void {
    this.#model.showAuthor(userId);
  }

  // ---- comments ------------------------------------------------------------------------------------------------

  /** Comments loaded with the page (a post's own page): shown at once, with where the older ones continue. */
  seedComments(postId: string, comments: CommentDto[], nextCursor: string | null): void {
    this.#model.setComments(postId, comments);
    this.commentCursors = { ...this.commentCursors, [postId]: nextCursor };
    this.#publish();
  }

  async loadComments(postId: string): Promise<string | null> {
    return this.#run(this.#api.postWithComments(postId), ({ post, comments, nextCursor }) => {
      this.#model.postUpdated(post, { fromEvent: false });
      this.#model.setComments(postId, comments);
      this.commentCursors = { ...this.commentCursors, [postId]: nextCursor };
    });
  }

  async loadMoreComments(postId: string): Promise<string | null> {
    const cursor = this.commentCursors[postId];
    if (!cursor) return null;
    return this.#run(this.#api.moreComments(postId, cursor), ({ comments, nextCursor }) => {
      this.#model.setComments(postId, comments);
      this.commentCursors = { ...this.commentCursors, [postId]: nextCursor };
    });
  }

  comment(postId: string, body: string, parentId: string | null): Promise<string | null> {
    return this.#run(this.#api.comment(postId, body, parentId), (comment) => this.#model.commentCreated(comment, { fromEvent: false }));
  }

  editComment(commentId: string, body: string): Promise<string | null> {
    return this.#run(this.#api.editComment(commentId, body), (comment) => this.#model.commentUpdated(comment, { fromEvent: false }));
  }

  deleteComment(postId: string, commentId: string): Promise<string | null> {
    return this.#run(this.#api.deleteComment(commentId), () => this.#model.commentDeleted(postId, commentId));
  }

  reactToComment(postId: string, commentId: string, emoji: string): Promise<string | null> {
    return this.#run(this.#api.reactToComment(commentId, emoji), ({ reactions, version }) =>
      this.#model.reactionUpdated({ postId, commentId, reactions, version }, { fromEvent: false }),
    );
  }

  // ---- helpers -------------------------------------------------------------------------------------------------

  /** Runs an API call and applies its answer; returns the error message to show, or null. */
  async #run<T>(call: Promise<AckResult<T>>, apply: (data: T) => unknown): Promise<string | null> {
    const result = await call;
    if (!result.ok) return chatErrorMessage(result.error);
    if (this.destroyed) return null;
    apply(result.data);
    this.#publish();
    return null;
  }

  #publish(): void {
    this.posts = this.#model.posts;
    this.incoming = this.#model.incoming;
    this.comments = this.#model.allComments();
    this.loaded = new Set(this.#model.loadedPosts());
    this.nextCursor = this.#model.nextCursor;
  }
}

function stripCommunity(comment: CommentDto & { communityId: string }): CommentDto {
  const { communityId: _communityId, ...rest } = comment;
  return rest;
}
