import { defineEntity, p } from '@mikro-orm/core';

/** Outgoing e-mail, written in the same transaction as the change that causes it. */
export const EmailOutbox = defineEntity({
  name: 'EmailOutbox',
  tableName: 'email_outbox',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    to: p.string().length(254).fieldName('recipient'),
    subject: p.string().length(200),
    body: p.text(),
    createdAt: p.datetime().onCreate(() => new Date()),
    sentAt: p.datetime().nullable(),
    attempts: p.integer().default(0),
    lastError: p.text().nullable(),
    nextAttemptAt: p.datetime().onCreate(() => new Date()),
  },
});
