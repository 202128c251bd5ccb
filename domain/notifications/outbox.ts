import type { EntityManager } from '@mikro-orm/postgresql';
import type { OutboxMessageDto } from '../../contracts/auth.ts';
import { EmailOutbox } from '../../orm/entities/index.ts';
import type { Deps } from '../shared/deps.ts';

export interface OutgoingEmail {
  to: string;
  subject: string;
  body: string;
}

/** Queues an e-mail inside the caller's transaction, so it exists exactly when the change that caused it does. */
export function queueEmail(em: EntityManager, email: OutgoingEmail): void {
  em.create(EmailOutbox, { to: email.to, subject: email.subject, body: email.body });
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
