import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { COMMUNITY_ROLES, type CommunityRole } from '../../contracts/communities.ts';
import { slugify } from './communities.ts';
import { decodeCursor, encodeCursor, likeContains } from './cursor.ts';
import { CommunityPolicy } from './policies.ts';

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

describe('slugify', () => {
  it.each([
    ['Rust & Go: Systems!', 'rust-go-systems'],
    ['  Crème Brûlée  ', 'creme-brulee'],
    ['日本語', 'community'],
    ['a'.repeat(80), 'a'.repeat(48)],
    // Cut at 48 right after a dash: no trailing dash.
    [`${'abcdefg-'.repeat(6)}zz`, 'abcdefg-'.repeat(6).slice(0, 47)],
  ])('%s → %s', (name, slug) => expect(slugify(name)).toBe(slug));
});

describe('cursors', () => {
  const Key = z.tuple([z.string(), z.uuid()]);
  it('round-trips keys opaquely and rejects anything else as invalid_input', () => {
    const key: [string, string] = ['café', crypto.randomUUID()];
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(Key, cursor)).toEqual(key);
    expect(decodeCursor(Key, undefined)).toBeUndefined();
    for (const bad of ['%%%', encodeCursor(['x']), encodeCursor(['x', 'y'])]) {
      expect(() => decodeCursor(Key, bad)).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    }
  });

  it('escapes LIKE wildcards', () => {
    expect(likeContains('100%_a\\b')).toBe('%100\\%\\_a\\\\b%');
  });
});
