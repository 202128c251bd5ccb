import type { CommentDto, FeedPage, PostDto } from '../contracts/feed.ts';
import type { CommunityRole } from '../contracts/communities.ts';
import { moderateFeedItem } from '../domain/feed/moderation.ts';
import { sqlOf } from '../domain/shared/sql.ts';
import { seedCommunity } from './communities.ts';
import type { TestUser } from './communityFactories.ts';
import { api } from './factories.ts';
import type { RunningNode } from './nodes.ts';

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

async function expectStatus<T>(promise: Promise<{ status: number; body: T }>, status: number, what: string): Promise<T> {
  const res = await promise;
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Posts through the API (201 expected). */
export async function postAs(node: RunningNode, user: TestUser, communityId: string, input: string | Record<string, unknown>): Promise<PostDto> {
  const body = typeof input === 'string' ? { body: input } : input;
  const res = await expectStatus<{ post: PostDto }>(
    api(node.url, 'POST', `/api/v1/communities/${communityId}/posts`, { token: user.accessToken, body }),
    201,
    'create post',
  );
  return res.post;
}

export async function commentAs(node: RunningNode, user: TestUser, postId: string, body: string, parentId?: string): Promise<CommentDto> {
  const res = await expectStatus<{ comment: CommentDto }>(
    api(node.url, 'POST', `/api/v1/posts/${postId}/comments`, { token: user.accessToken, body: parentId ? { body, parentId } : { body } }),
    201,
    'create comment',
  );
  return res.comment;
}

export async function reactAs(node: RunningNode, user: TestUser, postId: string, emoji = '👍') {
  return expectStatus(api(node.url, 'POST', `/api/v1/posts/${postId}/reactions`, { token: user.accessToken, body: { emoji } }), 200, 'react');
}

export async function feedPage(node: RunningNode, user: TestUser, path: string, cursor?: string | null, limit = 20): Promise<FeedPage> {
  const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
  return expectStatus<FeedPage>(api(node.url, 'GET', `/api/v1${path}?${query}`, { token: user.accessToken }), 200, `GET ${path}`);
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
  await sqlOf(node.node.deps.orm.em.fork())(
    `insert into posts (id, community_id, author_id, kind, body, created_at) values (?, ?, ?, 'text', ?, ?)`,
    [id, input.communityId, input.authorId, input.body ?? `post ${id.slice(0, 8)}`, input.createdAt],
  );
  return id;
}

/** Engagement written straight into the tables at a given time (ranking inputs): one person, distinct emoji. */
export async function insertEngagement(
  node: RunningNode,
  input: { postId: string; communityId: string; userId: string; reactions?: number; comments?: number; at: Date },
): Promise<void> {
  const sql = sqlOf(node.node.deps.orm.em.fork());
  for (let i = 0; i < (input.reactions ?? 0); i++) {
    await sql('insert into post_reactions (post_id, user_id, emoji, created_at) values (?, ?, ?, ?)', [input.postId, input.userId, `r${i}`, input.at]);
  }
  for (let i = 0; i < (input.comments ?? 0); i++) {
    await sql('insert into comments (id, post_id, community_id, author_id, body, created_at) values (?, ?, ?, ?, ?, ?)', [
      crypto.randomUUID(),
      input.postId,
      input.communityId,
      input.userId,
      `comment ${i}`,
      input.at,
    ]);
  }
}

/** What the moderation console does: moderateFeedItem in a transaction, then publish after commit. */
export async function moderateAs(
  node: RunningNode,
  moderator: TestUser,
  target: { type: 'post' | 'comment'; id: string },
  change: { hide?: boolean; delete?: boolean },
) {
  const deps = node.node.deps;
  const result = await deps.orm.em.fork().transactional((tx) => moderateFeedItem(deps, sqlOf(tx), target, change, moderator.user.id));
  result.publish();
  return result;
}
