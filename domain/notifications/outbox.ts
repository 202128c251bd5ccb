import type { EntityManager } from '@mikro-orm/postgresql';
import type { OutboxMessageDto } from '../../contracts/auth.ts';
import { EmailOutbox } from '../../orm/entities/index.ts';
import type { Deps } from '../shared/deps.ts';
import { enqueueJob } from '../shared/jobs.ts';

/*
 * Outgoing e-mail. `email_outbox` is the record of every message (the development page /dev/outbox lists it); its
 * delivery is a job queued in the same transaction, keyed by the message, so a message is sent iff the change that
 * caused it commits, and at most one delivery job exists per message. Nodes without SMTP_URL do not run delivery
 * jobs: the messages wait (listed, not sent) and go out once a node with SMTP runs.
 */

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    'email.send': { outboxId: string };
  }
}

/** About 16 hours of retries (graphile-worker's backoff); a verification link stays valid for 48. */
export const EMAIL_MAX_ATTEMPTS = 12;

export interface OutgoingEmail {
  to: string;
  subject: string;
  body: string;
  /** Extra headers, e.g. List-Unsubscribe. */
  headers?: Record<string, string>;
}

/** Queues an e-mail inside the caller's transaction, so it exists exactly when the change that caused it does. */
export async function queueEmail(em: EntityManager, email: OutgoingEmail): Promise<void> {
  const id = crypto.randomUUID();
  em.create(EmailOutbox, { id, to: email.to, subject: email.subject, body: email.body, headers: email.headers ?? null });
  await enqueueJob(em, 'email.send', { outboxId: id }, { jobKey: `email:${id}`, maxAttempts: EMAIL_MAX_ATTEMPTS });
}

export async function listOutbox(deps: Deps, limit = 50): Promise<OutboxMessageDto[]> {
  const em = deps.orm.em.fork();
  const rows = await em.find(EmailOutbox, {}, { orderBy: { createdAt: 'desc' }, limit });
  return rows.map((row) => ({
    id: row.id,
    to: row.to,
    subject: row.subject,
    body: row.body,
    createdAt: row.createdAt.toISOString(),
    sentAt: row.sentAt?.toISOString() ?? null,
  }));
}
