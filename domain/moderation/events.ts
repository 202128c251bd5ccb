import type { CaseDto } from '../../contracts/moderation.ts';

/*
 * Moderation's domain events, emitted after commit. Cases are announced as the moderators see them (hidden and deleted
 * targets included), since only a community's moderators listen to its queue. Actions on a person name that person and
 * the community; times travel as ISO strings, as they do on the wire. Losing the queue when someone stops moderating a
 * community follows from the community's own events (`member.removed`, `member.role_changed`).
 */
declare module '../shared/events.ts' {
  interface DomainEvents {
    /** A first report (or the word filter) opened a case on a target that had no active one. */
    'moderation_case.created': { case: CaseDto };
    /** A case changed: another report merged into it, the word filter matched again, a moderator claimed or closed it. */
    'moderation_case.updated': { case: CaseDto };
    /** A moderator warned a member. */
    'member.warned': { communityId: string; userId: string; reason: string };
    /** A moderator timed a member out: no messages, posts, comments or reactions in the community until `until`. */
    'member.timed_out': { communityId: string; userId: string; until: string; reason: string };
    /**
     * A moderator barred a person from the community: banned for good (`rejoinAfter` null) or kicked and kept out until
     * `rejoinAfter`. Their membership, if they had one, is gone (`member.removed` follows).
     */
    'member.barred': { communityId: string; userId: string; reason: string; rejoinAfter: string | null };
    /**
     * A platform admin suspended an account (its sessions are revoked, each announced as `session.revoked`). Also
     * recorded durably in the suspension's transaction, so whatever lists people (search) drops them even if the
     * node dies right after the commit.
     */
    'user.suspended': { userId: string };
    /** The suspension was lifted. Also recorded durably in its transaction. */
    'user.unsuspended': { userId: string };
  }
}
