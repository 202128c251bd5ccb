import { describe, expect, it } from 'vitest';
import { COMMUNITY_ROLES, type CommunityRole } from '../../contracts/communities.ts';
import { PLATFORM_ROLES } from '../../contracts/auth.ts';
import {
  COMMUNITY_RANK,
  isManagingRole,
  isModeratingRole,
  isPlatformAdmin,
  isPlatformModerator,
  MANAGING_ROLES,
  MODERATING_ROLES,
  rankOf,
} from './roles.ts';

// The role ranks every policy builds on: pure, so checked here without a database.

const EVERYONE: (CommunityRole | null)[] = [...COMMUNITY_ROLES, null];

describe('community ranks', () => {
  it('order owner > admin > moderator > member > not a member', () => {
    const ranked = [...EVERYONE].sort((a, b) => rankOf(b) - rankOf(a));
    expect(ranked).toEqual(['owner', 'admin', 'moderator', 'member', null]);
    expect(rankOf(null)).toBeLessThan(COMMUNITY_RANK.member);
  });

  it('the role sets and the predicates name the same people', () => {
    expect(EVERYONE.filter(isModeratingRole)).toEqual([...MODERATING_ROLES].sort((a, b) => rankOf(b) - rankOf(a)));
    expect(EVERYONE.filter(isManagingRole)).toEqual([...MANAGING_ROLES].sort((a, b) => rankOf(b) - rankOf(a)));
    // Whoever manages also moderates.
    expect(MANAGING_ROLES.every((role) => MODERATING_ROLES.includes(role))).toBe(true);
  });
});

describe('platform roles', () => {
  it('platform moderators and admins moderate everywhere; only admins administer', () => {
    const moderators = PLATFORM_ROLES.filter((role) => isPlatformModerator({ role }));
    const admins = PLATFORM_ROLES.filter((role) => isPlatformAdmin({ role }));
    expect(moderators).toEqual(['moderator', 'admin']);
    expect(admins).toEqual(['admin']);
  });

  it('an instructor is a plain user as far as moderation goes', () => {
    expect(isPlatformModerator({ role: 'instructor' })).toBe(false);
    expect(isPlatformAdmin({ role: 'instructor' })).toBe(false);
  });
});
