import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './auth.ts';

/**
 * Single-use links that change an account: a password reset, and a new e-mail address waiting for its confirmation.
 * Only sha256 of each link's secret is stored; the id is the public half of the link.
 */

export const PasswordResetToken = defineEntity({
  name: 'PasswordResetToken',
  tableName: 'password_reset_tokens',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade').index('password_reset_tokens_user_idx'),
    secretHash: p.string().length(64),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});
export type IPasswordResetToken = InferEntity<typeof PasswordResetToken>;

export const EmailChangeToken = defineEntity({
  name: 'EmailChangeToken',
  tableName: 'email_change_tokens',
  checks: [{ name: 'email_change_tokens_new_email_lowercase', expression: 'new_email = lower(new_email)' }],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade').index('email_change_tokens_user_idx'),
    newEmail: p.string().length(254),
    secretHash: p.string().length(64),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});
export type IEmailChangeToken = InferEntity<typeof EmailChangeToken>;
