import type { SessionRevokedPayload } from '../../contracts/realtime.ts';

declare module '../shared/events.ts' {
  interface DomainEvents {
    /** A session ended early (logout, revoked from another device, refresh-token reuse, suspension). */
    'session.revoked': SessionRevokedPayload;
  }
}
