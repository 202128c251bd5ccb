import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Session } from './Session.ts';

/** A single-use refresh token; only the SHA-256 of its secret is stored. */
export const RefreshToken = defineEntity({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    session: () => p.manyToOne(Session).deleteRule('cascade'),
    secretHash: p.string().length(64),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});

export type IRefreshToken = InferEntity<typeof RefreshToken>;
