import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './auth.ts';
import { Community } from './communities.ts';

/** A notification: exactly one per (recipient, kind, source), about one subject whose access is re-checked when read. */
export const Notification = defineEntity({
  name: 'Notification',
  tableName: 'notifications',
  uniques: [{ name: 'notifications_user_kind_source_unique', properties: ['user', 'kind', 'sourceKey'] }],
  indexes: [
    { name: 'notifications_user_idx', expression: 'CREATE INDEX notifications_user_idx ON public.notifications USING btree (user_id, created_at DESC, id DESC)' },
    { name: 'notifications_unread_idx', where: 'read_at IS NULL', properties: ['user'] },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    kind: p.string().length(32),
    sourceKey: p.string().length(200),
    actor: () => p.manyToOne(User).nullable().deleteRule('set null'),
    community: () => p.manyToOne(Community).nullable().deleteRule('cascade'),
    subjectType: p.string().length(16),
    subjectId: p.uuid().nullable(),
    title: p.string().length(300),
    body: p.text().default(''),
    url: p.string().length(500),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    readAt: p.datetime().nullable(),
  },
});
export type INotification = InferEntity<typeof Notification>;
