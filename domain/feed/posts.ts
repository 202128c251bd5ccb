import type { CreatePostInput, PostDto } from '../../contracts/feed.ts';
import { checkContribution } from '../moderation/enforcement.ts';
import { recordAudit } from '../moderation/audit.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { authorizeFeed } from './access.ts';
import { contributionText, flagForReview, loadPostFor, type PostContext } from './postAccess.ts';
import { loadPost } from './presenters.ts';

/** More would push the newest posts off the first page. */
export const MAX_PINNED_POSTS = 3;

async function presentFor(sql: Sql, postId: string, actor: Actor): Promise<PostDto> {
  const post = await loadPost(sql, postId, actor.userId);
  if (!post) throw new AppError('not_found', 'No such post.');
  return post;
}

/** A member posts text, a link or a poll; the community's rules (timeouts, word filter, link limit) apply. */
export async function createPost(deps: Deps, actor: Actor, communityId: string, input: CreatePostInput): Promise<PostDto> {
  const { post, flaggedWords } = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const now = deps.clock.now();
    await authorizeFeed(sql, actor, communityId, 'contribute', now);
    const body = contributionText([input.body, input.linkUrl, input.poll?.question, ...(input.poll?.options ?? [])]);
    const { flaggedWords } = await checkContribution(deps, sql, actor, { communityId, kind: 'post', body });
    const id = crypto.randomUUID();
    await sql(
      `insert into posts (id, community_id, author_id, kind, body, link_url, poll_question, poll_options, created_at)
       values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)`,
      [
        id,
        communityId,
        actor.userId,
        input.kind,
        input.body,
        input.linkUrl ?? null,
        input.poll?.question ?? null,
        input.poll ? JSON.stringify(input.poll.options) : null,
        now,
      ],
    );
    return { post: await presentFor(sql, id, actor), flaggedWords };
  });
  await deps.events.emit('post.created', { post });
  await flagForReview(deps, flaggedWords, { communityId, type: 'post', id: post.id, authorId: actor.userId });
  return post;
}

/** Runs `change` on the locked post in one transaction; returns the post as the caller sees it afterwards. */
async function changePost<T>(
  deps: Deps,
  actor: Actor,
  postId: string,
  action: 'read' | 'contribute' | 'moderate',
  change: (sql: Sql, ctx: PostContext) => Promise<T>,
): Promise<{ result: T; post: PostDto; ctx: PostContext }> {
  return deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const ctx = await loadPostFor(deps, sql, actor, postId, action, { lock: true });
    const result = await change(sql, ctx);
    return { result, post: await presentFor(sql, postId, actor), ctx };
  });
}

/** The author edits the body (any time; editedAt shows it). The community's rules apply to the new text. */
export async function editPost(deps: Deps, actor: Actor, postId: string, input: { body: string }): Promise<PostDto> {
  const { result, post, ctx } = await changePost(deps, actor, postId, 'contribute', async (sql, { post }) => {
    if (post.author_id !== actor.userId) throw new AppError('forbidden', 'You can only edit your own posts.');
    // Gone for its author too — even one who moderates and so could load it: an edit would announce it to members.
    if (post.hidden) throw new AppError('not_found', 'No such post.');
    if (post.body === input.body) return { changed: false, flaggedWords: [] };
    const { flaggedWords } = await checkContribution(deps, sql, actor, { communityId: post.community_id, kind: 'post', body: input.body });
    await sql('update posts set body = ?, edited_at = ? where id = ?', [input.body, deps.clock.now(), post.id]);
    return { changed: true, flaggedWords };
  });
  if (result.changed) await deps.events.emit('post.updated', { post });
  await flagForReview(deps, result.flaggedWords, { communityId: post.communityId, type: 'post', id: post.id, authorId: ctx.post.author_id });
  return post;
}

/**
 * The author or a community moderator deletes (soft: the row stays for the audit trail and moderation cases, the
 * content is gone for everyone). A moderator removing someone else's post is audited.
 */
export async function deletePost(deps: Deps, actor: Actor, postId: string): Promise<void> {
  const communityId = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const { post, moderates } = await loadPostFor(deps, sql, actor, postId, 'read', { lock: true });
    const own = post.author_id === actor.userId;
    if (!own && !moderates) throw new AppError('forbidden', 'Only the author or a moderator can delete this post.');
    const now = deps.clock.now();
    await sql('update posts set deleted_at = ?, pinned_at = null, pinned_by_id = null where id = ?', [now, post.id]);
    if (!own) {
      await recordAudit(
        sql,
        {
          communityId: post.community_id,
          actorId: actor.userId,
          action: 'delete',
          targetType: 'post',
          targetId: post.id,
          targetUserId: post.author_id,
          before: { hidden: post.hidden, deleted: false, body: post.body },
          after: { hidden: post.hidden, deleted: true },
        },
        now,
      );
    }
    // Members never had a hidden post, so there is nothing to take back from them.
    return post.hidden ? null : post.community_id;
  });
  if (communityId) await deps.events.emit('post.deleted', { communityId, postId });
}

/** Moderators pin (at most MAX_PINNED_POSTS per community) and unpin; repeating either is harmless. */
export async function pinPost(deps: Deps, actor: Actor, postId: string, pinned: boolean): Promise<PostDto> {
  const { result: changed, post } = await changePost(deps, actor, postId, 'moderate', async (sql, { post }) => {
    if ((post.pinned_at !== null) === pinned) return false;
    if (pinned) {
      if (post.hidden) throw new AppError('conflict', 'This post is hidden: unhide it before pinning.');
      // The community row lock orders concurrent pins, so the limit holds.
      await sql('select 1 from communities where id = ? for update', [post.community_id]);
      const [{ n } = { n: 0 }] = await sql<{ n: number }>(
        'select count(*)::int as n from posts where community_id = ? and pinned_at is not null and deleted_at is null',
        [post.community_id],
      );
      if (n >= MAX_PINNED_POSTS) throw new AppError('conflict', `At most ${MAX_PINNED_POSTS} posts can be pinned; unpin one first.`);
    }
    await sql('update posts set pinned_at = ?, pinned_by_id = ? where id = ?', [
      pinned ? deps.clock.now() : null,
      pinned ? actor.userId : null,
      post.id,
    ]);
    return true;
  });
  if (changed && !post.hidden) await deps.events.emit('post.updated', { post });
  return post;
}

/** One vote per member and poll; voting again moves the vote. Answers the post with the caller's vote. */
export async function votePoll(deps: Deps, actor: Actor, postId: string, option: number): Promise<PostDto> {
  const { result: changed, post } = await changePost(deps, actor, postId, 'contribute', async (sql, { post }) => {
    if (post.kind !== 'poll' || !post.poll_options) throw new AppError('conflict', 'This post has no poll.');
    if (option >= post.poll_options.length) {
      throw new AppError('invalid_input', 'No such option.', { details: { fields: { option: `Choose 0 to ${post.poll_options.length - 1}.` } } });
    }
    // Voting is taking part like reacting: a timed-out member cannot.
    await checkContribution(deps, sql, actor, { communityId: post.community_id, kind: 'reaction' });
    const rows = await sql(
      `insert into post_poll_votes (post_id, user_id, option, created_at) values (?, ?, ?, ?)
       on conflict (post_id, user_id) do update set option = excluded.option, created_at = excluded.created_at
       where post_poll_votes.option <> excluded.option returning 1`,
      [post.id, actor.userId, option, deps.clock.now()],
    );
    return rows.length > 0;
  });
  if (changed && !post.hidden) await deps.events.emit('post.updated', { post });
  return post;
}
