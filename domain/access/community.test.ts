import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMUNITY_ROLES, type CommunityRole } from '../../contracts/communities.ts';
import { openOrm, type Orm } from '../../orm/database.ts';
import { db } from '../../orm/db.ts';
import { testDatabaseUrl } from '../../test/db.ts';
import { CommunityPolicy, loadCommunityAccess, visibleCommunityIds } from './community.ts';

const roles = [...COMMUNITY_ROLES, null] as const;

describe('CommunityPolicy', () => {
  it('lets outsiders see only public communities, and only members list members and channels', () => {
    const table = roles.flatMap((role) =>
      (['public', 'private'] as const).map((visibility) => {
        const a = { communityId: 'c', visibility, role };
        return [role ?? 'none', visibility, CommunityPolicy.view(a), CommunityPolicy.listMembers(a), CommunityPolicy.listChannels(a)];
      }),
    );
    expect(table.filter(([, , view]) => !view)).toEqual([['none', 'private', false, false, false]]);
    expect(table.filter(([role]) => role === 'none').map(([, , , members]) => members)).toEqual([false, false]);
  });

  it('ranks invites and channel creation', () => {
    const can = (check: 'invite' | 'createChannel') =>
      roles.filter((role) => CommunityPolicy[check]({ communityId: 'c', visibility: 'public', role }));
    expect(can('invite')).toEqual(['owner', 'admin', 'moderator']);
    expect(can('createChannel')).toEqual(['owner', 'admin']);
  });

  it('lets owners set any role and admins only move people between moderator and member', () => {
    const allowed: string[] = [];
    for (const actor of roles) {
      for (const target of COMMUNITY_ROLES) {
        for (const next of COMMUNITY_ROLES) if (CommunityPolicy.setRole(actor, target, next)) allowed.push(`${actor}:${target}->${next}`);
      }
    }
    expect(allowed.filter((a) => a.startsWith('owner:'))).toHaveLength(16);
    expect(allowed.filter((a) => !a.startsWith('owner:')).sort()).toEqual(
      ['admin:member->member', 'admin:member->moderator', 'admin:moderator->member', 'admin:moderator->moderator'].sort(),
    );
  });

  it('removes strictly down the ranks, from moderator up', () => {
    const pairs = roles.flatMap((actor) => COMMUNITY_ROLES.filter((target) => CommunityPolicy.remove(actor, target)).map((t) => `${actor}>${t}`));
    expect(pairs).toEqual(['owner>admin', 'owner>moderator', 'owner>member', 'admin>moderator', 'admin>member', 'moderator>member']);
  });

  it('never lets a non-member do anything with roles', () => {
    const roleChecks = COMMUNITY_ROLES.flatMap((t: CommunityRole) => [CommunityPolicy.remove(null, t), CommunityPolicy.setRole(null, t, 'member')]);
    expect(roleChecks.every((ok) => !ok)).toBe(true);
  });
});

/*
 * Parity: CommunityPolicy.view over the loaded access (loadCommunityAccess, which also leaves archived communities out)
 * and the visibleCommunityIds predicate agree on every case.
 */
describe('community visibility: the loader with CommunityPolicy.view and visibleCommunityIds agree', () => {
  let orm: Orm;
  beforeAll(async () => {
    orm = await openOrm(await testDatabaseUrl(), { poolMax: 2 });
  });
  afterAll(async () => orm?.close(true));

  it('visibility × role × archived × ban', async () => {
    const q = db(orm.em.fork());
    const tag = randomBytes(4).toString('hex');
    const userId = crypto.randomUUID();
    await q.insertInto('users').values({ id: userId, email: `visibility-${tag}@example.test`, password_hash: 'not a hash', display_name: 'Viewer' }).execute();
    const cases = (['public', 'private'] as const).flatMap((visibility) =>
      roles.flatMap((role) =>
        [false, true].flatMap((archived) =>
          (['none', 'banned', 'kickRunOut'] as const).map((ban) => ({ visibility, role, archived, ban, communityId: crypto.randomUUID() })),
        ),
      ),
    );
    await q
      .insertInto('communities')
      .values(
        cases.map((c, i) => ({
          id: c.communityId,
          slug: `v-${tag}-${i}`,
          name: `Visibility ${i}`,
          visibility: c.visibility,
          archived_at: c.archived ? new Date() : null,
        })),
      )
      .execute();
    // A ban ends the membership; a kick that has run out leaves someone free to have joined again.
    const member = cases.filter((c) => c.role !== null && c.ban !== 'banned');
    await q.insertInto('community_members').values(member.map((c) => ({ community_id: c.communityId, user_id: userId, role: c.role! }))).execute();
    await q
      .insertInto('community_bans')
      .values(
        cases
          .filter((c) => c.ban !== 'none')
          .map((c) => ({
            community_id: c.communityId,
            user_id: userId,
            reason: 'parity',
            expires_at: c.ban === 'banned' ? null : new Date(Date.now() - 86_400_000),
          })),
      )
      .execute();

    const caseIds = cases.map((c) => c.communityId);
    const visible = new Set((await visibleCommunityIds(q, { userId }).where('c.id', 'in', caseIds).execute()).map((r) => r.id));
    const disagreements: string[] = [];
    for (const c of cases) {
      const byPolicy = await loadCommunityAccess(q, userId, c.communityId).then(
        (access) => CommunityPolicy.view(access),
        () => false,
      );
      if (byPolicy !== visible.has(c.communityId)) {
        disagreements.push(`${c.visibility}/role:${c.role ?? 'none'}/${c.archived ? 'archived' : 'live'}/ban:${c.ban}: policy ${byPolicy}`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(visible.size).toBeGreaterThan(0);
    expect(visible.size).toBeLessThan(cases.length);
  });
});
