import type { PlatformRole } from '../../contracts/auth.ts';
import type { CommunityRole } from '../../contracts/communities.ts';

/*
 * Who belongs to a community and who can read which channel, as domain events emitted after commit. Each says what
 * changed for whom; what a listener does about it (rooms, wire events, later notifications) is the listener's business.
 * `platformRole` travels where a listener must know whether someone keeps a community's moderation queue anyway:
 * platform moderators and admins moderate every community (domain/access/roles.ts).
 */

/** A channel someone can read now. */
export type ChannelAddedEvent =
  /** A new public channel: every member of its community reads it. */
  | { channelId: string; communityId: string; openTo: 'members' }
  /** A new private channel, DM or group DM, or someone added to a private channel or a class's chat: these people. */
  | { channelId: string; communityId: string | null; openTo: 'users'; userIds: string[] };

declare module '../shared/events.ts' {
  interface DomainEvents {
    /**
     * A community was created (its creator's `member.joined` follows). Also recorded durably in the creating
     * transaction, for catalogues and search. Communities are never renamed, archived or deleted yet: when they are,
     * those operations record their own event here.
     */
    'community.created': { communityId: string };
    /** Someone became a member: created the community, joined it, or accepted an invite. */
    'member.joined': { communityId: string; userId: string };
    /**
     * Someone is no longer a member: left, was kicked or banned. None of `channelIds` (every channel of the community)
     * is readable for them any more, nor its presence, feed or (unless platform staff) moderation queue.
     */
    'member.removed': { communityId: string; userId: string; channelIds: string[]; platformRole: PlatformRole };
    /** A member's role changed (never emitted when it stayed the same). */
    'member.role_changed': {
      communityId: string;
      userId: string;
      previousRole: CommunityRole;
      role: CommunityRole;
      platformRole: PlatformRole;
    };
    'channel.added': ChannelAddedEvent;
    /**
     * `userId` can no longer read these channels: taken off a private channel, left a group DM, demoted below admin,
     * blocked by the other person of a 1:1 DM, or taken off a class.
     */
    'channel.access_revoked': { userId: string; channelIds: string[] };
  }
}
