import { describe, expect, it } from 'vitest';
import { COMMUNITY_ROLES, type CommunityRole } from '../../contracts/communities.ts';
import type { Actor } from '../shared/deps.ts';
import { ModerationPolicy } from './moderation.ts';

// Who moderates whom, decided over loaded roles: no database needed.

const as = (role: Actor['role']): Actor => ({ userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), role });
const user = as('user');
const ROLES: (CommunityRole | null)[] = [...COMMUNITY_ROLES, null];

describe('ModerationPolicy', () => {
  it('community moderators and up moderate their community; members, outsiders and instructors do not', () => {
    expect(ROLES.filter((role) => ModerationPolicy.moderate(user, role))).toEqual(['owner', 'admin', 'moderator']);
    expect(ModerationPolicy.moderate(as('instructor'), 'member')).toBe(false);
    expect(ModerationPolicy.moderate(as('moderator'), null)).toBe(true);
    expect(ModerationPolicy.moderate(as('admin'), null)).toBe(true);
  });

  it('acts on a person only from strictly above their rank', () => {
    const allowed = (actorRole: CommunityRole | null) => ROLES.filter((target) => ModerationPolicy.actOn(user, actorRole, target));
    expect(allowed('owner')).toEqual(['admin', 'moderator', 'member', null]);
    expect(allowed('admin')).toEqual(['moderator', 'member', null]);
    expect(allowed('moderator')).toEqual(['member', null]);
    // A member outranks an outsider but does not moderate.
    expect(allowed('member')).toEqual([]);
    expect(allowed(null)).toEqual([]);
  });

  it('platform moderators act on anyone but an owner; platform admins on owners too', () => {
    expect(ROLES.filter((target) => ModerationPolicy.actOn(as('moderator'), null, target))).toEqual(['admin', 'moderator', 'member', null]);
    expect(ROLES.filter((target) => ModerationPolicy.actOn(as('admin'), null, target))).toEqual(ROLES);
  });

  it('administers (audit log, automod) from admin up; suspends accounts as a platform admin only', () => {
    expect(ROLES.filter((role) => ModerationPolicy.administer(user, role))).toEqual(['owner', 'admin']);
    expect(ModerationPolicy.administer(as('moderator'), null)).toBe(false);
    expect(ModerationPolicy.administer(as('admin'), null)).toBe(true);
    expect((['user', 'instructor', 'moderator', 'admin'] as const).filter((role) => ModerationPolicy.suspend(as(role)))).toEqual(['admin']);
  });

  it('exempts exactly the people who moderate from slow mode and link limits', () => {
    for (const actor of [user, as('moderator')]) {
      for (const role of ROLES) expect(ModerationPolicy.exemptFromAutomod(actor, role)).toBe(ModerationPolicy.moderate(actor, role));
    }
  });
});
