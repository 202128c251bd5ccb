import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { CommunityDto, CreateCommunityInput } from '../../contracts/communities.ts';
import { db, type Db } from '../../orm/db.ts';
import { communityVisibleTo } from '../access/community.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { decodeCursor, encodeCursor, likeContains } from './cursor.ts';
import { assertNotBanned } from '../access/membership.ts';
import { assertNotLastOwner, deleteMembership } from './membership.ts';
import { loadCommunityAccess } from '../access/community.ts';
import { CommunityPolicy } from '../access/community.ts';
import { presentCommunity, selectCommunities } from './presenters.ts';
import { revokeCommunityAccess } from './revoke.ts';
import { assertMayJoinPaid } from '../commerce/tiers.ts';
import './events.ts';

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** `now`: the domain clock's time, for whether a kick's rejoin block still stands. */
export async function loadCommunityDto(q: Db, userId: string, communityId: string, now: Date): Promise<CommunityDto> {
  const row = await selectCommunities(q, userId).where('c.id', '=', communityId).executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such community.');
  return presentCommunity(row, now);
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
    const q = db(tx);
    const id = crypto.randomUUID();
    const base = slugify(input.name);
    const taken = new Set(
      (
        await q
          .selectFrom('communities')
          .select('slug')
          .where((eb) => eb.or([eb('slug', '=', base), eb('slug', 'like', `${base}-%`)]))
          .execute()
      ).map((r) => r.slug),
    );
    let inserted = false;
    // The unique constraint decides: a concurrent creator may take a slug between the read above and the insert.
    for (let n = 1, attempt = 0; !inserted && attempt < 20; attempt++) {
      let slug = n === 1 ? base : `${base}-${n}`;
      while (taken.has(slug)) slug = `${base}-${++n}`;
      if (attempt >= 10) slug = `${base}-${randomBytes(4).toString('hex')}`;
      const rows = await q
        .insertInto('communities')
        .values({
          id,
          slug,
          name: input.name,
          description: input.description,
          visibility: input.visibility,
          created_by_id: actor.userId,
        })
        .onConflict((oc) => oc.column('slug').doNothing())
        .returning('id')
        .execute();
      inserted = rows.length > 0;
      taken.add(slug);
    }
    if (!inserted) throw new AppError('conflict', 'Could not find a free address for this community; try another name.');
    await q.insertInto('community_members').values({ community_id: id, user_id: actor.userId, role: 'owner' }).execute();
    await deps.events.record(tx, 'community.created', { communityId: id });
    return loadCommunityDto(q, actor.userId, id, deps.clock.now());
  });
  await deps.events.emit('community.created', { communityId: community.id });
  await deps.events.emit('member.joined', { communityId: community.id, userId: actor.userId });
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
  const now = deps.clock.now();
  let list = selectCommunities(db(deps.orm.em.fork()), actor.userId).where(communityVisibleTo(actor.userId));
  if (query.q) list = list.where('c.name', 'ilike', likeContains(query.q));
  // A row comparison on the sort key, so the next page resumes exactly after the (lower(name), id) it ended on.
  if (after) list = list.where(sql<boolean>`(lower(c.name), c.id) > (${after[0]}::text, ${after[1]}::uuid)`);
  const rows = await list
    .orderBy(sql`lower(c.name)`)
    .orderBy('c.id')
    .limit(query.limit + 1)
    .execute();
  return pageOf(rows, query.limit, (r) => [r.sort_name, r.id], (r) => presentCommunity(r, now));
}

export function pageOf<R, T>(rows: R[], limit: number, keyOf: (row: R) => (string | number)[], present: (row: R) => T): Page<T> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { data: page.map(present), nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}

export async function getCommunity(deps: Deps, actor: Actor, communityId: string): Promise<CommunityDto> {
  const q = db(deps.orm.em.fork());
  await loadCommunityAccess(q, actor.userId, communityId);
  return loadCommunityDto(q, actor.userId, communityId, deps.clock.now());
}

/**
 * Public communities: anyone may join (idempotent) unless banned or recently kicked. Private ones need an invite. A
 * paid community (one with an active membership tier) takes an active tier: buying one makes the buyer a member.
 */
export async function joinCommunity(deps: Deps, actor: Actor, communityId: string): Promise<CommunityDto> {
  const q = db(deps.orm.em.fork());
  const access = await loadCommunityAccess(q, actor.userId, communityId, { requireView: false });
  if (access.role === null) {
    if (!CommunityPolicy.join(access)) throw new AppError('forbidden', 'This community is invite only.');
    const joined = await deps.orm.em.fork().transactional(async (tx) => {
      const txq = db(tx);
      await assertNotBanned(txq, communityId, actor.userId, deps.clock.now());
      await assertMayJoinPaid(txq, actor, communityId, deps.clock.now());
      const inserted = await txq
        .insertInto('community_members')
        .values({ community_id: communityId, user_id: actor.userId, role: 'member' })
        .onConflict((oc) => oc.doNothing())
        .returning('user_id')
        .execute();
      return inserted.length > 0;
    });
    if (joined) await deps.events.emit('member.joined', { communityId, userId: actor.userId });
  }
  return loadCommunityDto(q, actor.userId, communityId, deps.clock.now());
}

export async function leaveCommunity(deps: Deps, actor: Actor, communityId: string): Promise<void> {
  const em = deps.orm.em.fork();
  const channelIds = await em.transactional(async (tx) => {
    const q = db(tx);
    const access = await loadCommunityAccess(q, actor.userId, communityId, { lock: true });
    if (access.role === null) throw new AppError('not_found', 'You are not a member of this community.');
    if (access.role === 'owner') {
      await assertNotLastOwner(q, communityId, 'You are the last owner: make someone else owner before leaving.');
    }
    return deleteMembership(q, communityId, actor.userId);
  });
  await revokeCommunityAccess(deps, actor.userId, communityId, channelIds);
}
