import { sql } from 'kysely';
import type { CreatePostInput, PostDto } from '../../contracts/feed.ts';
import { db, jsonb, type Db } from '../../orm/db.ts';
import { checkContribution } from '../moderation/enforcement.ts';
import { recordAudit } from '../moderation/audit.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { authorizeFeed } from '../access/feed.ts';
import { contributionText, flagForReview, loadPostFor, type PostContext } from './postAccess.ts';
import { loadPost } from './presenters.ts';
import { bumpVersion, nextVersion } from './versions.ts';

/** More would push the newest posts off the first page. */
export const MAX_PINNED_POSTS = 3;

async function presentFor(q: Db, postId: string, actor: Actor): Promise<PostDto> {
  const post = await loadPost(q, postId, actor.userId);
  if (!post) throw new AppError('not_found', 'No such post.');
  return post;
}

/** A member posts text, a link or a poll; the community's rules (timeouts, word filter, link limit) apply. */
export async function createPost(deps: Deps, actor: Actor, communityId: string, input: CreatePostInput): Promise<PostDto> {
  const { post, flaggedWords } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const now = deps.clock.now();
    await authorizeFeed(q, actor, communityId, 'contribute', now);
    const body = contributionText([input.body, input.linkUrl, input.poll?.question, ...(input.poll?.options ?? [])]);
    const { flaggedWords } = await checkContribution(deps, q, actor, { communityId, kind: 'post', body });
    const id = crypto.randomUUID();
    await q
      .insertInto('posts')
      .values({
        id,
        community_id: communityId,
        author_id: actor.userId,
        kind: input.kind,
        body: input.body,
        link_url: input.linkUrl ?? null,
        poll_question: input.poll?.question ?? null,
        poll_options: input.poll ? jsonb(input.poll.options) : null,
        created_at: now,
      })
      .execute();
    const post = await presentFor(q, id, actor);
    await deps.events.record(tx, 'post.created', { post });
    return { post, flaggedWords };
  });
  await deps.events.emit('post.created', { post });
  await flagForReview(deps, flaggedWords, { communityId, type: 'post', id: post.id, authorId: actor.userId });
  return post;
}

/**
 * Runs `change` on the locked post in one transaction; returns the post as the caller sees it afterwards. When
 * `recordUpdated(result)` says so, `post.updated` is recorded durably in that transaction, with that post.
 */
async function changePost<T>(
  deps: Deps,
  actor: Actor,
  postId: string,
  action: 'read' | 'contribute' | 'moderate',
  change: (q: Db, ctx: PostContext) => Promise<T>,
  recordUpdated: (result: T) => boolean = () => false,
): Promise<{ result: T; post: PostDto; ctx: PostContext }> {
  return deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const ctx = await loadPostFor(deps, q, actor, postId, action, { lock: true });
    const result = await change(q, ctx);
    const post = await presentFor(q, postId, actor);
    if (recordUpdated(result)) await deps.events.record(tx, 'post.updated', { post });
    return { result, post, ctx };
  });
}

/**
 * The author edits the body (any time; editedAt shows it). The community's rules apply to the new text. The only
 * change to a post's text, so the only `post.updated` that is also recorded durably (pins and poll counts are not).
 */
export async function editPost(deps: Deps, actor: Actor, postId: string, input: { body: string }): Promise<PostDto> {
  const { result, post, ctx } = await changePost(deps, actor, postId, 'contribute', async (q, { post }) => {
    if (post.author_id !== actor.userId) throw new AppError('forbidden', 'You can only edit your own posts.');
    // Gone for its author too — even one who moderates and so could load it: an edit would announce it to members.
    if (post.hidden) throw new AppError('not_found', 'No such post.');
    if (post.body === input.body) return { changed: false, flaggedWords: [] };
    const { flaggedWords } = await checkContribution(deps, q, actor, { communityId: post.community_id, kind: 'post', body: input.body });
    await q
      .updateTable('posts')
      .set({ body: input.body, edited_at: deps.clock.now(), version: nextVersion })
      .where('id', '=', post.id)
      .execute();
    return { changed: true, flaggedWords };
  }, (result) => result.changed);
  if (result.changed) await deps.events.emit('post.updated', { post });
  await flagForReview(deps, result.flaggedWords, { communityId: post.communityId, type: 'post', id: post.id, authorId: ctx.post.author_id });
  return post;
}

/**
 * The author or a community moderator deletes (soft: the row stays for the audit trail and moderation cases, the
 * content is gone for everyone). A moderator removing someone else's post is audited.
 */
export async function deletePost(deps: Deps, actor: Actor, postId: string): Promise<void> {
  const gone = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { post, moderates } = await loadPostFor(deps, q, actor, postId, 'read', { lock: true });
    const own = post.author_id === actor.userId;
    if (!own && !moderates) throw new AppError('forbidden', 'Only the author or a moderator can delete this post.');
    const now = deps.clock.now();
    const { version } = await q
      .updateTable('posts')
      .set({ deleted_at: now, pinned_at: null, pinned_by_id: null, version: nextVersion })
      .where('id', '=', post.id)
      .returning('version')
      .executeTakeFirstOrThrow();
    if (!own) {
      await recordAudit(
        q,
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
    if (post.hidden) return null;
    const gone = { communityId: post.community_id, postId: post.id, version };
    await deps.events.record(tx, 'post.deleted', gone);
    return gone;
  });
  if (gone) await deps.events.emit('post.deleted', gone);
}

/** Moderators pin (at most MAX_PINNED_POSTS per community) and unpin; repeating either is harmless. */
export async function pinPost(deps: Deps, actor: Actor, postId: string, pinned: boolean): Promise<PostDto> {
  const { result: changed, post } = await changePost(deps, actor, postId, 'moderate', async (q, { post }) => {
    if ((post.pinned_at !== null) === pinned) return false;
    if (pinned) {
      if (post.hidden) throw new AppError('conflict', 'This post is hidden: unhide it before pinning.');
      // The community row lock orders concurrent pins, so the limit holds.
      await q.selectFrom('communities').select('id').where('id', '=', post.community_id).forUpdate().execute();
      const { n } = await q
        .selectFrom('posts')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('community_id', '=', post.community_id)
        .where('pinned_at', 'is not', null)
        .where('deleted_at', 'is', null)
        .executeTakeFirstOrThrow();
      if (n >= MAX_PINNED_POSTS) throw new AppError('conflict', `At most ${MAX_PINNED_POSTS} posts can be pinned; unpin one first.`);
    }
    await q
      .updateTable('posts')
      .set({ pinned_at: pinned ? deps.clock.now() : null, pinned_by_id: pinned ? actor.userId : null, version: nextVersion })
      .where('id', '=', post.id)
      .execute();
    return true;
  });
  if (changed && !post.hidden) await deps.events.emit('post.updated', { post });
  return post;
}

/** One vote per member and poll; voting again moves the vote. Answers the post with the caller's vote. */
export async function votePoll(deps: Deps, actor: Actor, postId: string, option: number): Promise<PostDto> {
  const { result: changed, post } = await changePost(deps, actor, postId, 'contribute', async (q, { post }) => {
    if (post.kind !== 'poll' || !post.poll_options) throw new AppError('conflict', 'This post has no poll.');
    if (option >= post.poll_options.length) {
      throw new AppError('invalid_input', 'No such option.', { details: { fields: { option: `Choose 0 to ${post.poll_options.length - 1}.` } } });
    }
    // Voting is taking part like reacting: a timed-out member cannot.
    await checkContribution(deps, q, actor, { communityId: post.community_id, kind: 'reaction' });
    const rows = await q
      .insertInto('post_poll_votes')
      .values({ post_id: post.id, user_id: actor.userId, option, created_at: deps.clock.now() })
      .onConflict((oc) =>
        oc
          .columns(['post_id', 'user_id'])
          .doUpdateSet((eb) => ({ option: eb.ref('excluded.option'), created_at: eb.ref('excluded.created_at') }))
          .whereRef('post_poll_votes.option', '<>', 'excluded.option'),
      )
      .returning('post_id')
      .execute();
    if (rows.length === 0) return false;
    // The counts every member sees moved.
    await bumpVersion(q, 'posts', post.id);
    return true;
  });
  if (changed && !post.hidden) await deps.events.emit('post.updated', { post });
  return post;
}
