import type { DashboardPostDto } from '../../contracts/dashboard.ts';
import type { Db } from '../../orm/db.ts';
import { visibleCommunityIds } from '../access/community.ts';
import { barredAt } from '../access/membership.ts';
import { postListedTo } from '../access/post.ts';
import type { Actor } from '../shared/deps.ts';

/** How much of a post the dashboard shows. */
const EXCERPT_CHARS = 160;

/** Markdown reduced to its words, for a one-line excerpt (the post page renders the real thing). */
export function plainExcerpt(markdown: string, max = EXCERPT_CHARS): string {
  const text = markdown
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+/gm, '')
    .replace(/[*_~`|]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/**
 * The latest posts in the communities I belong to, as their feeds list them to members (PostPolicy.listed in the
 * members' view: no hidden or deleted posts, no muted or blocked authors), in communities I may see and am not barred
 * from. Moderators get the members' view here too: hidden posts belong in their queue, not on a home page.
 */
export async function recentActivity(q: Db, actor: Actor, now: Date, limit: number): Promise<DashboardPostDto[]> {
  const rows = await q
    .selectFrom('posts as p')
    .innerJoin('communities as co', 'co.id', 'p.community_id')
    .innerJoin('users as u', 'u.id', 'p.author_id')
    .select(['p.id', 'p.community_id', 'co.name as community_name', 'p.author_id', 'u.display_name', 'p.body', 'p.created_at'])
    .where('p.community_id', 'in', q.selectFrom('community_members as mine').select('mine.community_id').where('mine.user_id', '=', actor.userId))
    .where('p.community_id', 'in', visibleCommunityIds(q, actor))
    .where((eb) => eb.not(barredAt(actor.userId, eb.ref('p.community_id'), now)))
    .where(postListedTo(actor.userId, false))
    .orderBy('p.created_at', 'desc')
    .orderBy('p.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    communityId: r.community_id,
    communityName: r.community_name,
    author: { id: r.author_id, displayName: r.display_name },
    excerpt: plainExcerpt(r.body),
    createdAt: r.created_at.toISOString(),
  }));
}
