import { sql } from 'kysely';
import type { Db } from '../../orm/db.ts';
import { commentVisibleInThread } from '../access/comment.ts';

/*
 * A post's stored counts, recomputed inside the caller's transaction. Every change to a post's comments or reactions
 * runs with the post row locked, so recounting cannot race and the stored counts never drift.
 */

/** Comments as members count them: those visible in their thread (CommentPolicy.visibleInThread). */
export async function recountComments(q: Db, postId: string): Promise<void> {
  await q
    .updateTable('posts')
    .set((eb) => ({
      comment_count: eb
        .selectFrom('comments as c')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('c.post_id', '=', postId)
        .where(commentVisibleInThread())
        .$asScalar(),
    }))
    .where('id', '=', postId)
    .execute();
}

/** Reactions, a ranking input alongside comments. */
export async function recountReactions(q: Db, postId: string): Promise<void> {
  await q
    .updateTable('posts')
    .set((eb) => ({
      reaction_count: eb.selectFrom('post_reactions as r').select(sql<number>`count(*)::int`.as('n')).where('r.post_id', '=', postId).$asScalar(),
    }))
    .where('id', '=', postId)
    .execute();
}
