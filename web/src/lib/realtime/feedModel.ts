import type { ReactionDto } from '$contracts/chat.ts';
import type { CommentDto, FeedPage, PostDto } from '$contracts/feed.ts';

/**
 * community: one community's feed, newest first with pinned posts on top.
 * home: the ranked home feed; the server's order is kept as it is.
 */
export type FeedMode = 'community' | 'home';

export interface FeedModelOptions {
  mode: FeedMode;
  /** The signed-in person: their own new posts go straight onto the page instead of behind the banner. */
  myId: string;
}

export interface ReactionUpdate {
  postId: string;
  commentId: string | null;
  reactions: ReactionDto[];
}

type Dated = { id: string; createdAt: string };
const byCreatedAsc = (a: Dated, b: Dated) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.id.localeCompare(b.id);
const byCreatedDesc = (a: Dated, b: Dated) => -byCreatedAsc(a, b);

/**
 * The posts of a feed as the reader sees them, plus the ones that arrived live and wait behind the "N new posts"
 * banner: a post someone else creates never moves what the reader is looking at until they ask for it. Every change
 * is keyed by id, so an event that repeats what a REST answer already said (or arrives after the post was deleted)
 * changes nothing. No reactivity here: LiveFeed publishes copies after each change.
 */
export class FeedModel {
  nextCursor: string | null = null;

  #opts: FeedModelOptions;
  #shown: PostDto[] = [];
  /** Newest first. */
  #incoming: PostDto[] = [];
  /** Deleted or hidden posts: a late event or an older page must not bring them back. */
  #gonePosts = new Set<string>();
  #goneComments = new Set<string>();
  #hiddenAuthors = new Set<string>();
  /** Comments we know of, by post (from loads and events), oldest first. */
  #comments = new Map<string, CommentDto[]>();
  /** Posts whose comments were loaded over REST (events alone may have told us about only some of them). */
  #loaded = new Set<string>();

  constructor(options: FeedModelOptions) {
    this.#opts = options;
  }

  get posts(): PostDto[] {
    return [...this.#shown];
  }

  get incoming(): PostDto[] {
    return [...this.#incoming];
  }

  /** Every post on the page or waiting behind the banner. */
  knownIds(): Set<string> {
    return new Set([...this.#shown, ...this.#incoming].map((p) => p.id));
  }

  post(postId: string): PostDto | undefined {
    return this.#shown.find((p) => p.id === postId) ?? this.#incoming.find((p) => p.id === postId);
  }

  commentsLoaded(postId: string): boolean {
    return this.#loaded.has(postId);
  }

  comments(postId: string): CommentDto[] {
    return [...(this.#comments.get(postId) ?? [])];
  }

  /** Every post's known comments, for publishing. */
  allComments(): Record<string, CommentDto[]> {
    return Object.fromEntries([...this.#comments].map(([postId, list]) => [postId, [...list]]));
  }

  loadedPosts(): string[] {
    return [...this.#loaded];
  }

  // ---- pages ---------------------------------------------------------------------------------------------------

  /** The first page: what the reader sees from now on. */
  reset(page: FeedPage): void {
    this.#shown = this.#order(this.#visible(page.data));
    const shownIds = new Set(this.#shown.map((p) => p.id));
    this.#incoming = this.#incoming.filter((p) => !shownIds.has(p.id));
    this.nextCursor = page.nextCursor;
  }

  /** A later page goes below; posts already on the page (a new post that pushed the cursor, say) are skipped. */
  appendPage(page: FeedPage): void {
    const known = new Set([...this.#shown, ...this.#incoming].map((p) => p.id));
    const added = this.#visible(page.data).filter((p) => !known.has(p.id));
    this.#shown = [...this.#shown, ...added];
    this.nextCursor = page.nextCursor;
  }

  /**
   * The first page again, after the connection was lost: posts we have are brought up to date, posts we do not have
   * wait behind the banner, and (in a community feed, which is in time order) posts missing from the range the page
   * covers were deleted or hidden meanwhile. `knownBefore`: the posts we had when the page was requested — one that
   * arrived live while the request was out is newer than the page, not gone.
   */
  refreshHead(page: FeedPage, knownBefore: ReadonlySet<string> = this.knownIds()): void {
    const fresh = this.#visible(page.data);
    const freshIds = new Set(fresh.map((p) => p.id));
    // The home feed is ranked: an older post that climbed is not news, only ones newer than what the reader has.
    const newest = Math.max(-Infinity, ...this.#shown.map((p) => Date.parse(p.createdAt)));
    for (const post of fresh) {
      if (this.post(post.id)) this.postUpdated(post, { fromEvent: false });
      else if (this.#opts.mode === 'community' || Date.parse(post.createdAt) > newest) this.#queue(post);
    }
    if (this.#opts.mode !== 'community') return;
    const unpinned = fresh.filter((p) => !p.pinned);
    // A short page is the whole feed; a full one only vouches for what is as new as its oldest post.
    const oldest = page.nextCursor === null ? -Infinity : Math.min(...unpinned.map((p) => Date.parse(p.createdAt)));
    if (page.nextCursor !== null && unpinned.length === 0) return;
    for (const post of [...this.#shown, ...this.#incoming]) {
      if (post.pinned || freshIds.has(post.id) || !knownBefore.has(post.id)) continue;
      if (Date.parse(post.createdAt) >= oldest) this.postDeleted(post.id);
    }
  }

  // ---- posts ---------------------------------------------------------------------------------------------------

  /** A post created live. Returns where it went. */
  postCreated(post: PostDto): 'shown' | 'incoming' | 'ignored' {
    if (this.#gonePosts.has(post.id) || this.#hiddenAuthors.has(post.author.id)) return 'ignored';
    if (this.post(post.id)) {
      this.postUpdated(post, { fromEvent: true });
      return 'ignored';
    }
    if (post.author.id === this.#opts.myId) {
      this.#insertAtTop([post]);
      return 'shown';
    }
    this.#queue(post);
    return 'incoming';
  }

  /** The caller's own new post, from the API's answer (it may also arrive as an event; either order is fine). */
  addMine(post: PostDto): void {
    if (this.#gonePosts.has(post.id)) return;
    if (this.post(post.id)) this.postUpdated(post, { fromEvent: false });
    else this.#insertAtTop([post]);
  }

  /**
   * A post as it is now. Broadcasts cannot know the reader's own poll vote, so an event keeps the vote we have; the
   * API's answer to the reader's own request carries it.
   */
  postUpdated(post: PostDto, { fromEvent }: { fromEvent: boolean }): void {
    if (this.#gonePosts.has(post.id)) return;
    const current = this.post(post.id);
    if (!current) return;
    let next = post;
    if (fromEvent && current.poll && next.poll) next = { ...next, poll: { ...next.poll, myVote: current.poll.myVote } };
    // Comments counted from events may be ahead of a post read a moment earlier.
    next = { ...next, commentCount: Math.max(next.commentCount, this.#comments.get(post.id)?.length ?? 0) };
    const inIncoming = this.#incoming.some((p) => p.id === post.id);
    if (inIncoming) {
      this.#incoming = this.#incoming.map((p) => (p.id === post.id ? next : p));
      return;
    }
    if (this.#opts.mode === 'community' && current.pinned !== next.pinned) {
      // Pinning moves the post to the top; unpinning puts it back among the others by time.
      this.#shown = this.#order([...this.#shown.filter((p) => p.id !== post.id), next]);
      return;
    }
    this.#shown = this.#shown.map((p) => (p.id === post.id ? next : p));
  }

  postDeleted(postId: string): void {
    this.#gonePosts.add(postId);
    this.#shown = this.#shown.filter((p) => p.id !== postId);
    this.#incoming = this.#incoming.filter((p) => p.id !== postId);
    this.#comments.delete(postId);
    this.#loaded.delete(postId);
  }

  /** Moves the waiting posts onto the page (newest first, below pinned posts). Returns them. */
  reveal(): PostDto[] {
    const revealed = this.#incoming;
    this.#incoming = [];
    this.#insertAtTop(revealed);
    return revealed;
  }

  /** Someone the reader muted or blocked: their posts and comments leave the page. */
  hideAuthor(userId: string): void {
    this.#hiddenAuthors.add(userId);
    this.#shown = this.#shown.filter((p) => p.author.id !== userId);
    this.#incoming = this.#incoming.filter((p) => p.author.id !== userId);
    for (const [postId, list] of this.#comments) this.#comments.set(postId, list.filter((c) => c.author.id !== userId));
  }

  /** Unmuted or unblocked: new content shows again (what already left comes back with the next load). */
  showAuthor(userId: string): void {
    this.#hiddenAuthors.delete(userId);
  }

  // ---- comments ------------------------------------------------------------------------------------------------

  /** The comments of a post from the API, merged with any that arrived live while the request was out. */
  setComments(postId: string, comments: CommentDto[]): void {
    if (this.#gonePosts.has(postId)) return;
    const merged = new Map<string, CommentDto>();
    for (const c of this.#comments.get(postId) ?? []) merged.set(c.id, c);
    for (const c of comments) if (!this.#goneComments.has(c.id)) merged.set(c.id, c);
    const list = [...merged.values()].filter((c) => !this.#hiddenAuthors.has(c.author.id)).sort(byCreatedAsc);
    this.#comments.set(postId, list);
    this.#loaded.add(postId);
    this.#bumpCount(postId, () => list.length, true);
  }

  /** A new comment (live, or the API's answer to our own). Counts it once. */
  commentCreated(comment: CommentDto): boolean {
    if (this.#gonePosts.has(comment.postId) || this.#goneComments.has(comment.id)) return false;
    const list = this.#comments.get(comment.postId) ?? [];
    if (list.some((c) => c.id === comment.id)) {
      this.commentUpdated(comment);
      return false;
    }
    if (this.#hiddenAuthors.has(comment.author.id)) return false;
    this.#comments.set(comment.postId, [...list, comment].sort(byCreatedAsc));
    this.#bumpCount(comment.postId, (count) => count + 1, false);
    return true;
  }

  commentUpdated(comment: CommentDto): void {
    const list = this.#comments.get(comment.postId);
    if (!list || this.#goneComments.has(comment.id)) return;
    this.#comments.set(
      comment.postId,
      list.map((c) => (c.id === comment.id ? comment : c)),
    );
  }

  commentDeleted(postId: string, commentId: string): void {
    if (this.#goneComments.has(commentId)) return;
    this.#goneComments.add(commentId);
    const list = this.#comments.get(postId) ?? [];
    // Replies go with their comment.
    const removed = list.filter((c) => c.id === commentId || c.parentId === commentId);
    this.#comments.set(
      postId,
      list.filter((c) => !removed.includes(c)),
    );
    for (const reply of removed) this.#goneComments.add(reply.id);
    const drop = Math.max(1, removed.length);
    this.#bumpCount(postId, (count) => Math.max(0, count - drop), false);
  }

  reactionUpdated(update: ReactionUpdate): void {
    if (update.commentId === null) {
      const post = this.post(update.postId);
      if (!post) return;
      this.#replacePost({ ...post, reactions: update.reactions });
      return;
    }
    const list = this.#comments.get(update.postId);
    if (!list) return;
    this.#comments.set(
      update.postId,
      list.map((c) => (c.id === update.commentId ? { ...c, reactions: update.reactions } : c)),
    );
  }

  // ---- helpers -------------------------------------------------------------------------------------------------

  #visible(posts: PostDto[]): PostDto[] {
    const seen = new Set<string>();
    return posts.filter((p) => {
      if (seen.has(p.id) || this.#gonePosts.has(p.id) || this.#hiddenAuthors.has(p.author.id)) return false;
      seen.add(p.id);
      return true;
    });
  }

  #queue(post: PostDto): void {
    this.#incoming = [post, ...this.#incoming.filter((p) => p.id !== post.id)].sort(byCreatedDesc);
  }

  #insertAtTop(posts: PostDto[]): void {
    if (posts.length === 0) return;
    const ids = new Set(posts.map((p) => p.id));
    const rest = this.#shown.filter((p) => !ids.has(p.id));
    const fresh = [...posts].sort(byCreatedDesc);
    if (this.#opts.mode !== 'community') {
      this.#shown = [...fresh, ...rest];
      return;
    }
    const pinned = rest.filter((p) => p.pinned);
    const others = rest.filter((p) => !p.pinned);
    this.#shown = [...pinned, ...fresh.filter((p) => p.pinned), ...fresh.filter((p) => !p.pinned), ...others];
  }

  /** Community order: pinned first, then newest first. The home feed keeps the server's ranking. */
  #order(posts: PostDto[]): PostDto[] {
    if (this.#opts.mode !== 'community') return posts;
    const pinned = posts.filter((p) => p.pinned).sort(byCreatedDesc);
    const others = posts.filter((p) => !p.pinned).sort(byCreatedDesc);
    return [...pinned, ...others];
  }

  #replacePost(post: PostDto): void {
    this.#shown = this.#shown.map((p) => (p.id === post.id ? post : p));
    this.#incoming = this.#incoming.map((p) => (p.id === post.id ? post : p));
  }

  /** `atLeast`: the count only grows to cover comments we can see (a loaded list), never shrinks. */
  #bumpCount(postId: string, next: (count: number) => number, atLeast: boolean): void {
    const post = this.post(postId);
    if (!post) return;
    const count = atLeast ? Math.max(post.commentCount, next(post.commentCount)) : next(post.commentCount);
    if (count !== post.commentCount) this.#replacePost({ ...post, commentCount: count });
  }
}
