import type { CommunityRole } from '../contracts/communities.ts';
import type { CommentDto, CommentEnvelope, FeedPage, PostDto, PostEnvelope, ReactionList } from '../contracts/feed.ts';
import { moderateFeedItem } from '../domain/feed/moderation.ts';
import { db } from '../orm/db.ts';
import { seedCommunity } from './communities.ts';
import { call, ok, type TestUser } from './factories.ts';
import { dbOf, type RunningNode } from './nodes.ts';

/** A community seeded straight into the database with the given people; public unless told. */
export async function feedCommunity(
  node: RunningNode,
  members: { user: TestUser; role?: CommunityRole }[],
  visibility: 'public' | 'private' = 'public',
): Promise<string> {
  const { communityId } = await seedCommunity(node, {
    members: members.map((m) => ({ userId: m.user.user.id, role: m.role ?? 'member' })),
    channels: [],
    visibility,
  });
  return communityId;
}

/** Posts through the API (201 expected). */
export async function postAs(node: RunningNode, user: TestUser, communityId: string, input: string | Record<string, unknown>): Promise<PostDto> {
  const body = typeof input === 'string' ? { body: input } : input;
  return (await ok(call<PostEnvelope>(node, 'POST', `/communities/${communityId}/posts`, user, body), 201)).post;
}

export async function commentAs(node: RunningNode, user: TestUser, postId: string, body: string, parentId?: string): Promise<CommentDto> {
  const input = parentId ? { body, parentId } : { body };
  return (await ok(call<CommentEnvelope>(node, 'POST', `/posts/${postId}/comments`, user, input), 201)).comment;
}

export async function reactAs(node: RunningNode, user: TestUser, postId: string, emoji = '👍'): Promise<ReactionList> {
  return ok(call<ReactionList>(node, 'POST', `/posts/${postId}/reactions`, user, { emoji }));
}

export async function feedPage(node: RunningNode, user: TestUser, path: string, cursor?: string | null, limit = 20): Promise<FeedPage> {
  const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
  return ok(call<FeedPage>(node, 'GET', `${path}?${query}`, user));
}

/** Every page of a feed, following nextCursor; `between` runs after each page (to change the world mid-way). */
export async function allPages(
  node: RunningNode,
  user: TestUser,
  path: string,
  options: { limit?: number; between?: (pageIndex: number) => Promise<void> } = {},
): Promise<PostDto[][]> {
  const pages: PostDto[][] = [];
  let cursor: string | null = null;
  do {
    const page = await feedPage(node, user, path, cursor, options.limit ?? 20);
    pages.push(page.data);
    cursor = page.nextCursor;
    if (cursor) await options.between?.(pages.length - 1);
  } while (cursor);
  return pages;
}

/** A post written straight into the table, e.g. backdated (the API stamps posts with the node's clock). */
export async function insertPost(
  node: RunningNode,
  input: { communityId: string; authorId: string; createdAt: Date; body?: string },
): Promise<string> {
  const id = crypto.randomUUID();
  await dbOf(node)
    .insertInto('posts')
    .values({
      id,
      community_id: input.communityId,
      author_id: input.authorId,
      kind: 'text',
      body: input.body ?? `post ${id.slice(0, 8)}`,
      created_at: input.createdAt,
    })
    .execute();
  return id;
}

/** Engagement written straight into the tables at a given time (ranking inputs): one person, distinct emoji. */
export async function insertEngagement(
  node: RunningNode,
  input: { postId: string; communityId: string; userId: string; reactions?: number; comments?: number; at: Date },
): Promise<void> {
  const q = dbOf(node);
  const reactions = Array.from({ length: input.reactions ?? 0 }, (_, i) => ({ post_id: input.postId, user_id: input.userId, emoji: `r${i}`, created_at: input.at }));
  if (reactions.length) await q.insertInto('post_reactions').values(reactions).execute();
  const comments = Array.from({ length: input.comments ?? 0 }, (_, i) => ({
    id: crypto.randomUUID(),
    post_id: input.postId,
    community_id: input.communityId,
    author_id: input.userId,
    body: `comment ${i}`,
    created_at: input.at,
  }));
  if (comments.length) await q.insertInto('comments').values(comments).execute();
}

/** What the moderation console does: moderateFeedItem in a transaction, then publish after commit. */
export async function moderateAs(
  node: RunningNode,
  moderator: TestUser,
  target: { type: 'post' | 'comment'; id: string },
  change: { hide?: boolean; delete?: boolean },
) {
  const deps = node.node.deps;
  const result = await deps.orm.em.fork().transactional((tx) => moderateFeedItem(deps, db(tx), target, change, moderator.user.id));
  result.publish();
  return result;
}
