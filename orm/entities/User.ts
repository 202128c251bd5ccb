import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { PLATFORM_ROLES } from '../../contracts/auth.ts';

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    email: p.string().length(254).unique(),
    passwordHash: p.string().length(255).hidden(),
    displayName: p.string().length(60),
    role: p.enum(PLATFORM_ROLES).default('user'),
    emailVerifiedAt: p.datetime().nullable(),
    isDemo: p.boolean().default(false),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

export type IUser = InferEntity<typeof User>;
