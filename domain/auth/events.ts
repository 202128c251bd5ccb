import type { SessionRevokedPayload } from '../../contracts/realtime.ts';

declare module '../shared/events.ts' {
  interface DomainEvents {
    /**
     * Someone signed up (the account exists, its e-mail not yet verified). Also recorded durably in the sign-up's
     * transaction, so whatever lists people (search) follows even if the node dies right after the commit.
     */
    'user.registered': { userId: string };
    /** A session ended early (logout, revoked from another device, refresh-token reuse, suspension). */
    'session.revoked': SessionRevokedPayload;
  }
}
