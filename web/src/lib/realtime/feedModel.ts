import type { ReactionDto } from '$contracts/chat.ts';
import type { CommentDto, FeedPage, PostDto } from '$contracts/feed.ts';
import { NewestByKey } from './liveStore.svelte.ts';

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
  /** The post's (commentId null) or comment's version after the toggle. */
  version: number;
}

/** Where a copy comes from: a broadcast applies only when newer than what is held, an API answer when as new. */
export interface Source {
  fromEvent: boolean;
}

type Dated = { id: string; createdAt: string };
const byCreatedAsc = (a: Dated, b: Dated) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.id.localeCompare(b.id);
const byCreatedDesc = (a: Dated, b: Dated) => -byCreatedAsc(a, b);

/**
 * The posts of a feed as the reader sees them, plus the ones that arrived live and wait behind the "N new posts"
 * banner: a post someone else creates never moves what the reader is looking at until they ask for it. Every change
 * is keyed by id and ordered by the item's server version (NewestByKey): an event applies only when its version is
 * newer than the copy held, so one that repeats what a REST answer already said, or an edit that committed before a
 * hide but arrives after it, changes nothing, while an unhide (newer than the hide) brings the item back. No
 * reactivity here: LiveFeed publishes copies after each change.
 */
export class FeedModel {
  nextCursor: string | null = null;

  #opts: FeedModelOptions;
  #shown: PostDto[] = [];
  /** Newest first. */
  #incoming: PostDto[] = [];
  /** Each post's and comment's newest known version, removals included: a late event or an older page cannot undo them. */
  #postVersions = new NewestByKey<string>();
  #commentVersions = new NewestByKey<string>();
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
    this.#shown = this.#order(this.#fresh(page.data));
    const shownIds = new Set(this.#shown.map((p) => p.id));
    this.#incoming = this.#incoming.filter((p) => !shownIds.has(p.id));
    this.nextCursor = page.nextCursor;
  }

  /** A later page goes below; posts already on the page (a new post that pushed the cursor, say) are skipped. */
  appendPage(page: FeedPage): void {
    const known = new Set([...this.#shown, ...this.#incoming].map((p) => p.id));
    const added = this.#fresh(page.data).filter((p) => !known.has(p.id));
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
    const fresh = this.#fresh(page.data);
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
      // Removed by a change we missed, at a version we do not know: any copy newer than ours is after it.
      if (Date.parse(post.createdAt) >= oldest) this.postDeleted(post.id, this.#postVersions.version(post.id) ?? post.version);
    }
  }

  // ---- posts ---------------------------------------------------------------------------------------------------

  /** A post created live. Returns where it went. */
  postCreated(post: PostDto): 'shown' | 'incoming' | 'ignored' {
    if (this.#hiddenAuthors.has(post.author.id)) return 'ignored';
    if (this.post(post.id)) {
      this.postUpdated(post, { fromEvent: true });
      return 'ignored';
    }
    // Removed at this version or later (or a repeat): an unhide comes back only with a newer version than the hide.
    if (!this.#postVersions.event(post.id, post.version)) return 'ignored';
    if (post.author.id === this.#opts.myId) {
      this.#insertAtTop([post]);
      return 'shown';
    }
    this.#queue(post);
    return 'incoming';
  }

  /** The caller's own new post, from the API's answer (it may also arrive as an event; either order is fine). */
  addMine(post: PostDto): void {
    if (this.post(post.id)) this.postUpdated(post, { fromEvent: false });
    else if (this.#postVersions.snapshot(post.id, post.version)) this.#insertAtTop([post]);
  }

  /**
   * A post as it is now. Broadcasts cannot know the reader's own poll vote, so an event keeps the vote we have; the
   * API's answer to the reader's own request carries it.
   */
  postUpdated(post: PostDto, { fromEvent }: Source): void {
    // A post we do not hold stays as it is: one removed meanwhile stays gone, and one never loaded is not news.
    const current = this.post(post.id);
    if (!current || !this.#newer(this.#postVersions, post.id, post.version, fromEvent)) return;
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

  /**
   * Deleted or hidden by the change that produced `version`; without one (the reader's own deletion) for good. A
   * removal older than the copy held (a hide that a later unhide overtook) changes nothing.
   */
  postDeleted(postId: string, version = Infinity): void {
    if (!this.#postVersions.remove(postId, version)) return;
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
    if (this.#postVersions.removed(postId)) return;
    const merged = new Map<string, CommentDto>();
    for (const c of this.#comments.get(postId) ?? []) merged.set(c.id, c);
    for (const c of comments) {
      // An older copy than one that arrived live keeps the live one; a removed comment stays out.
      if (this.#commentVersions.snapshot(c.id, c.version) || (!merged.has(c.id) && !this.#commentVersions.removed(c.id))) merged.set(c.id, c);
    }
    const list = [...merged.values()].filter((c) => !this.#hiddenAuthors.has(c.author.id)).sort(byCreatedAsc);
    this.#comments.set(postId, list);
    this.#loaded.add(postId);
    this.#bumpCount(postId, () => list.length, true);
  }

  /** A new comment (live, or the API's answer to our own), or one unhidden (newer than its hide). Counts it once. */
  commentCreated(comment: CommentDto, { fromEvent }: Source = { fromEvent: true }): boolean {
    if (this.#postVersions.removed(comment.postId)) return false;
    const list = this.#comments.get(comment.postId) ?? [];
    if (list.some((c) => c.id === comment.id)) {
      this.commentUpdated(comment, { fromEvent });
      return false;
    }
    if (this.#hiddenAuthors.has(comment.author.id)) return false;
    if (!this.#newer(this.#commentVersions, comment.id, comment.version, fromEvent)) return false;
    this.#comments.set(comment.postId, [...list, comment].sort(byCreatedAsc));
    this.#bumpCount(comment.postId, (count) => count + 1, false);
    return true;
  }

  commentUpdated(comment: CommentDto, { fromEvent }: Source = { fromEvent: true }): void {
    const list = this.#comments.get(comment.postId);
    if (!list?.some((c) => c.id === comment.id)) return;
    if (!this.#newer(this.#commentVersions, comment.id, comment.version, fromEvent)) return;
    this.#comments.set(
      comment.postId,
      list.map((c) => (c.id === comment.id ? comment : c)),
    );
  }

  /** As postDeleted: `version` is the comment's after the deletion or hide; without one, gone for good. */
  commentDeleted(postId: string, commentId: string, version = Infinity): void {
    if (!this.#commentVersions.remove(commentId, version)) return;
    const list = this.#comments.get(postId) ?? [];
    // Replies go with their comment, removed at the versions we hold: unhiding the comment brings them back newer.
    const removed = list.filter((c) => c.id === commentId || c.parentId === commentId);
    this.#comments.set(
      postId,
      list.filter((c) => !removed.includes(c)),
    );
    for (const reply of removed) {
      if (reply.id !== commentId) this.#commentVersions.remove(reply.id, this.#commentVersions.version(reply.id) ?? reply.version);
    }
    const drop = Math.max(1, removed.length);
    this.#bumpCount(postId, (count) => Math.max(0, count - drop), false);
  }

  reactionUpdated(update: ReactionUpdate, { fromEvent }: Source = { fromEvent: true }): void {
    const { reactions, version } = update;
    if (update.commentId === null) {
      const post = this.post(update.postId);
      if (!post || !this.#newer(this.#postVersions, post.id, version, fromEvent)) return;
      this.#replacePost({ ...post, reactions, version });
      return;
    }
    const list = this.#comments.get(update.postId);
    if (!list?.some((c) => c.id === update.commentId)) return;
    if (!this.#newer(this.#commentVersions, update.commentId, version, fromEvent)) return;
    this.#comments.set(
      update.postId,
      list.map((c) => (c.id === update.commentId ? { ...c, reactions, version } : c)),
    );
  }

  // ---- helpers -------------------------------------------------------------------------------------------------

  /** Whether a copy at `version` is news: newer than what is held for a broadcast, at least as new for an API answer. */
  #newer(versions: NewestByKey<string>, key: string, version: number, fromEvent: boolean): boolean {
    return fromEvent ? versions.event(key, version) : versions.snapshot(key, version);
  }

  /**
   * A page's posts as they stand: each once, authors the reader muted left out, removed ones left out unless the page
   * has them newer than their removal (unhidden), and a copy older than the one held replaced by the held one.
   */
  #fresh(posts: PostDto[]): PostDto[] {
    const seen = new Set<string>();
    return posts.flatMap((p) => {
      if (seen.has(p.id) || this.#hiddenAuthors.has(p.author.id)) return [];
      seen.add(p.id);
      if (this.#postVersions.snapshot(p.id, p.version)) return [p];
      if (this.#postVersions.removed(p.id)) return [];
      return [this.post(p.id) ?? p];
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
