import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { CommunityDto, CreateCommunityInput } from '../../contracts/communities.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { decodeCursor, encodeCursor, likeContains } from './cursor.ts';
import { assertNotBanned, assertNotLastOwner, deleteMembership, loadCommunityAccess } from './membership.ts';
import { CommunityPolicy } from './policies.ts';
import { presentCommunity, type CommunityRow } from './presenters.ts';
import { grantCommunityAccess, revokeCommunityAccess } from './revoke.ts';

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

const COMMUNITY_SELECT = `
  select c.id, c.slug, c.name, c.description, c.visibility, c.created_at, lower(c.name) as sort_name,
         (select count(*) from community_members n where n.community_id = c.id) as member_count,
         me.role as my_role, ban.expires_at as my_ban_until, ban.reason as my_ban_reason
  from communities c
  cross join (select ?::uuid as id, ?::timestamptz as now) viewer
  left join community_members me on me.community_id = c.id and me.user_id = viewer.id
  left join community_bans ban on ban.community_id = c.id and ban.user_id = viewer.id
                              and (ban.expires_at is null or ban.expires_at > viewer.now)`;

/** `now`: the domain clock's time, for whether a kick's rejoin block still stands. */
export async function loadCommunityDto(sql: Sql, userId: string, communityId: string, now: Date): Promise<CommunityDto> {
  const [row] = await sql<CommunityRow>(`${COMMUNITY_SELECT} where c.id = ?`, [userId, now, communityId]);
  if (!row) throw new AppError('not_found', 'No such community.');
  return presentCommunity(row);
}

/** "Rust & Go: Systems!" → "rust-go-systems"; leaves room for a "-N" suffix in the 64-character column. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return slug || 'community';
}

export async function createCommunity(deps: Deps, actor: Actor, input: CreateCommunityInput): Promise<CommunityDto> {
  const em = deps.orm.em.fork();
  const community = await em.transactional(async (tx) => {
    const sql = sqlOf(tx);
    const id = crypto.randomUUID();
    const base = slugify(input.name);
    const taken = new Set(
      (await sql<{ slug: string }>('select slug from communities where slug = ? or slug like ?', [base, `${base}-%`])).map((r) => r.slug),
    );
    let inserted = false;
    // The unique constraint decides: a concurrent creator may take a slug between the read above and the insert.
    for (let n = 1, attempt = 0; !inserted && attempt < 20; attempt++) {
      let slug = n === 1 ? base : `${base}-${n}`;
      while (taken.has(slug)) slug = `${base}-${++n}`;
      if (attempt >= 10) slug = `${base}-${randomBytes(4).toString('hex')}`;
      const rows = await sql(
        `insert into communities (id, slug, name, description, visibility, created_by_id)
         values (?, ?, ?, ?, ?, ?) on conflict (slug) do nothing returning id`,
        [id, slug, input.name, input.description, input.visibility, actor.userId],
      );
      inserted = rows.length > 0;
      taken.add(slug);
    }
    if (!inserted) throw new AppError('conflict', 'Could not find a free address for this community; try another name.');
    await sql(`insert into community_members (community_id, user_id, role) values (?, ?, 'owner')`, [id, actor.userId]);
    return loadCommunityDto(sql, actor.userId, id, deps.clock.now());
  });
  grantCommunityAccess(deps, actor.userId, community.id);
  return community;
}

const CommunityCursor = z.tuple([z.string(), z.uuid()]);

/** Public communities and the caller's own, by name (case-insensitive) then id; optional name search. */
export async function listCommunities(
  deps: Deps,
  actor: Actor,
  query: { q?: string; cursor?: string; limit: number },
): Promise<Page<CommunityDto>> {
  const after = decodeCursor(CommunityCursor, query.cursor);
  const conditions = [`c.archived_at is null`, `(c.visibility = 'public' or me.user_id is not null)`];
  const params: unknown[] = [actor.userId, deps.clock.now()];
  if (query.q) {
    conditions.push('c.name ilike ?');
    params.push(likeContains(query.q));
  }
  if (after) {
    conditions.push('(lower(c.name), c.id) > (?::text, ?::uuid)');
    params.push(...after);
  }
  params.push(query.limit + 1);
  const rows = await sqlOf(deps.orm.em.fork())<CommunityRow & { sort_name: string }>(
    `${COMMUNITY_SELECT}
     where ${conditions.join(' and ')}
     order by lower(c.name), c.id limit ?`,
    params,
  );
  return pageOf(rows, query.limit, (r) => [r.sort_name, r.id], presentCommunity);
}

export function pageOf<R, T>(rows: R[], limit: number, keyOf: (row: R) => (string | number)[], present: (row: R) => T): Page<T> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { data: page.map(present), nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}

export async function getCommunity(deps: Deps, actor: Actor, communityId: string): Promise<CommunityDto> {
  const sql = sqlOf(deps.orm.em.fork());
  await loadCommunityAccess(sql, actor.userId, communityId);
  return loadCommunityDto(sql, actor.userId, communityId, deps.clock.now());
}

/** Public communities: anyone may join (idempotent) unless banned or recently kicked. Private ones need an invite. */
export async function joinCommunity(deps: Deps, actor: Actor, communityId: string): Promise<CommunityDto> {
  const sql = sqlOf(deps.orm.em.fork());
  const access = await loadCommunityAccess(sql, actor.userId, communityId, { requireView: false });
  if (access.role === null) {
    if (!CommunityPolicy.join(access)) throw new AppError('forbidden', 'This community is invite only.');
    await deps.orm.em.fork().transactional(async (tx) => {
      const txSql = sqlOf(tx);
      await assertNotBanned(txSql, communityId, actor.userId, deps.clock.now());
      await txSql(`insert into community_members (community_id, user_id, role) values (?, ?, 'member') on conflict do nothing`, [
        communityId,
        actor.userId,
      ]);
    });
    grantCommunityAccess(deps, actor.userId, communityId);
  }
  return loadCommunityDto(sql, actor.userId, communityId, deps.clock.now());
}

export async function leaveCommunity(deps: Deps, actor: Actor, communityId: string): Promise<void> {
  const em = deps.orm.em.fork();
  const channelIds = await em.transactional(async (tx) => {
    const sql = sqlOf(tx);
    const access = await loadCommunityAccess(sql, actor.userId, communityId, { lock: true });
    if (access.role === null) throw new AppError('not_found', 'You are not a member of this community.');
    if (access.role === 'owner') {
      await assertNotLastOwner(sql, communityId, 'You are the last owner: make someone else owner before leaving.');
    }
    return deleteMembership(sql, communityId, actor.userId);
  });
  await revokeCommunityAccess(deps, actor.userId, communityId, channelIds);
}
