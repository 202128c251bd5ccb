import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { PLATFORM_ROLES } from '../../contracts/auth.ts';
import { Asset } from './media.ts';

/** Accounts, signed-in devices (sessions) with their single-use refresh tokens, e-mail verification and outgoing mail. */

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  checks: [
    { name: 'users_email_lowercase', expression: 'email = lower(email)' },
    { name: 'users_bio_length', expression: 'char_length(bio) <= 2000' },
  ],
  // Mentions look people up by name, case-insensitively.
  indexes: [
    {
      name: 'users_display_name_lower_idx',
      expression: 'CREATE INDEX users_display_name_lower_idx ON public.users USING btree (lower((display_name)::text))',
    },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    email: p.string().length(254).unique('users_email_unique'),
    passwordHash: p.string().hidden(),
    displayName: p.string().length(60),
    role: p.enum(PLATFORM_ROLES).default('user'),
    emailVerifiedAt: p.datetime().nullable(),
    isDemo: p.boolean().default(false),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()).onUpdate(() => new Date()),
    rtcUid: p.integer().autoincrement().unique('users_rtc_uid_unique'),
    suspendedAt: p.datetime().nullable(),
    suspendedReason: p.text().nullable(),
    /** Profile: one line under the name, and a plain-text bio (see contracts/profiles.ts for the limits). */
    headline: p.string().length(120).default(''),
    bio: p.text().default(''),
    /** An uploaded image (attached); deleting the asset clears the avatar. */
    avatarAsset: () => p.manyToOne(Asset).nullable().deleteRule('set null'),
  },
});
export type IUser = InferEntity<typeof User>;

export const Session = defineEntity({
  name: 'Session',
  tableName: 'sessions',
  indexes: [
    {
      name: 'sessions_user_active_idx',
      where: 'revoked_at IS NULL',
      properties: ['user'],
    },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    userAgent: p.string().length(512).nullable(),
    ip: p.string().length(64).nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    lastUsedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokedReason: p.string().length(32).nullable(),
  },
});
export type ISession = InferEntity<typeof Session>;

export const RefreshToken = defineEntity({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    session: () => p.manyToOne(Session).deleteRule('cascade').index('refresh_tokens_session_idx'),
    secretHash: p.string().length(64),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});
export type IRefreshToken = InferEntity<typeof RefreshToken>;

export const EmailVerificationToken = defineEntity({
  name: 'EmailVerificationToken',
  tableName: 'email_verification_tokens',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade').index('email_verification_tokens_user_idx'),
    secretHash: p.string().length(64),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});
export type IEmailVerificationToken = InferEntity<typeof EmailVerificationToken>;

export const EmailOutbox = defineEntity({
  name: 'EmailOutbox',
  tableName: 'email_outbox',
  indexes: [
    {
      name: 'email_outbox_pending_idx',
      where: 'sent_at IS NULL',
      properties: ['nextAttemptAt'],
    },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    to: p.string().length(254).fieldName('recipient'),
    subject: p.string().length(200),
    body: p.text(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    sentAt: p.datetime().nullable(),
    attempts: p.integer().default(0),
    lastError: p.text().nullable(),
    nextAttemptAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    /** Extra headers (e.g. List-Unsubscribe on notification digests); null: none. */
    headers: p.json<Record<string, string>>().nullable(),
  },
});
export type IEmailOutbox = InferEntity<typeof EmailOutbox>;
