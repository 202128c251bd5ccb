import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './auth.ts';
import { Order } from './commerce.ts';

/**
 * Uploaded media. A row exists from an upload's first byte as `pending` and turns `ready` once its stored object is
 * complete; only ready assets are ever served. `attached_at` is set when something (a lesson, a cover, a submission,
 * an ebook import) starts using the asset; a clean-up job removes what was never attached after a day.
 */
export const Asset = defineEntity({
  name: 'Asset',
  tableName: 'assets',
  indexes: [
    {
      name: 'assets_owner_idx',
      properties: ['owner', 'createdAt'],
      columns: [{ name: 'owner_id' }, { name: 'created_at', sort: 'DESC' }],
    },
    { name: 'assets_unattached_idx', where: 'attached_at IS NULL', properties: ['createdAt'] },
  ],
  checks: [{ name: 'assets_byte_size_check', expression: 'byte_size >= 0' }],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    owner: () => p.manyToOne(User).deleteRule('cascade'),
    status: p.enum(['pending', 'ready']).default('pending').columnType('varchar(8)'),
    kind: p.enum(['image', 'video', 'audio', 'pdf', 'epub', 'file']).columnType('varchar(8)'),
    mime: p.string().length(100),
    byteSize: p.bigint('number').defaultRaw(`0`),
    originalName: p.string().length(255).default(''),
    storageKey: p.string().length(200).unique('assets_storage_key_unique'),
    thumbnailKey: p.string().length(200).nullable(),
    width: p.integer().nullable(),
    height: p.integer().nullable(),
    sha256: p.string().length(64).nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    readyAt: p.datetime().nullable(),
    attachedAt: p.datetime().nullable(),
  },
});
export type IAsset = InferEntity<typeof Asset>;

/**
 * The one answer to "is this user entitled to X?" for things that can be sold: a free enrolment or claim, a staff
 * grant, or (with commerce) a paid order writes a row; a refund or a removal sets `revoked_at`.
 */
export const Entitlement = defineEntity({
  name: 'Entitlement',
  tableName: 'entitlements',
  uniques: [
    {
      name: 'entitlements_active_unique',
      where: 'revoked_at IS NULL',
      properties: ['user', 'resourceType', 'resourceId'],
    },
  ],
  indexes: [
    { name: 'entitlements_resource_idx', properties: ['resourceType', 'resourceId', 'createdAt'] },
    { name: 'entitlements_order_idx', where: 'order_id IS NOT NULL', properties: ['order'] },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    resourceType: p.enum(['course', 'ebook', 'classroom', 'tier']).columnType('varchar(16)'),
    resourceId: p.uuid(),
    source: p.enum(['free', 'grant', 'order']).columnType('varchar(8)'),
    grantedBy: () => p.manyToOne(User).nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    revokedAt: p.datetime().nullable(),
    /** The order that paid for it (source `order`); a full refund or a lost dispute revokes what that order granted. */
    order: () => p.manyToOne(Order).nullable().deleteRule('set null'),
    /** A subscription's entitlement lasts until the end of the paid period. */
    expiresAt: p.datetime().nullable(),
  },
});
export type IEntitlement = InferEntity<typeof Entitlement>;
