import type { CommunityRole } from '../../contracts/communities.ts';
import type { Actor } from '../shared/deps.ts';

/*
 * Role ranks and role sets, declared once. Community roles are ordered owner > admin > moderator > member; a
 * non-member (null) ranks below every member. Platform roles (Actor.role) cut across communities: platform moderators
 * and admins moderate everywhere; platform admins administer everywhere.
 */

export const COMMUNITY_RANK: Readonly<Record<CommunityRole, number>> = { member: 0, moderator: 1, admin: 2, owner: 3 };

/** The rank of a community role; -1 for someone who is not a member. */
export function rankOf(role: CommunityRole | null): number {
  return role === null ? -1 : COMMUNITY_RANK[role];
}

/** Moderators and up: the queue, hiding and deleting content, pins, time-outs, kicks. */
export const MODERATING_ROLES: readonly CommunityRole[] = ['owner', 'admin', 'moderator'];
/** Admins and up: channels, settings, the audit log, scheduling classes. */
export const MANAGING_ROLES: readonly CommunityRole[] = ['owner', 'admin'];

export const isModeratingRole = (role: CommunityRole | null): boolean => rankOf(role) >= COMMUNITY_RANK.moderator;
export const isManagingRole = (role: CommunityRole | null): boolean => rankOf(role) >= COMMUNITY_RANK.admin;

/** Platform moderators and admins moderate every community. */
export const isPlatformModerator = (actor: Pick<Actor, 'role'>): boolean => actor.role === 'moderator' || actor.role === 'admin';
/** Platform admins administer every community and suspend accounts. */
export const isPlatformAdmin = (actor: Pick<Actor, 'role'>): boolean => actor.role === 'admin';

/**
 * Who may create teaching content (a course, an ebook): platform admins anywhere; platform instructors for no
 * community or a community they moderate; a community's owners and admins for its content. `communityRole` is
 * undefined for content without a community, null for someone outside the community.
 */
export function mayCreateContent(actor: Pick<Actor, 'role'>, communityRole: CommunityRole | null | undefined): boolean {
  if (isPlatformAdmin(actor)) return true;
  if (communityRole === undefined) return actor.role === 'instructor';
  if (isManagingRole(communityRole)) return true;
  return actor.role === 'instructor' && communityRole === 'moderator';
}
