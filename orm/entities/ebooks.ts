import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './auth.ts';
import { Community } from './communities.ts';
import { Asset } from './media.ts';

/** Ebooks: chapters in markdown, and each reader's position, highlights with notes, and bookmarks (private to them). */

export const Ebook = defineEntity({
  name: 'Ebook',
  tableName: 'ebooks',
  indexes: [
    {
      name: 'ebooks_catalogue_idx',
      where: 'status = \'published\'',
      properties: ['publishedAt', 'id'],
      columns: [
        { name: 'published_at', sort: 'DESC' },
        { name: 'id', sort: 'DESC' },
      ],
    },
  ],
  checks: [
    { name: 'ebooks_price_minor_check', expression: 'price_minor >= 0' },
    { name: 'ebooks_check', expression: '(price_minor = 0) OR (currency IS NOT NULL)' },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    community: () => p.manyToOne(Community).deleteRule('cascade').nullable(),
    owner: () => p.manyToOne(User).deleteRule('cascade'),
    title: p.string().length(200),
    author: p.string().length(200),
    description: p.text().default(''),
    priceMinor: p.integer().default(0),
    currency: p.string().length(3).nullable(),
    coverAsset: () => p.manyToOne(Asset).nullable(),
    status: p.enum(['draft', 'published', 'unpublished']).default('draft').columnType('varchar(16)'),
    publishedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IEbook = InferEntity<typeof Ebook>;

export const EbookChapter = defineEntity({
  name: 'EbookChapter',
  tableName: 'ebook_chapters',
  indexes: [{ name: 'ebook_chapters_ebook_idx', properties: ['ebook', 'position'] }],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    ebook: () => p.manyToOne(Ebook).deleteRule('cascade'),
    title: p.string().length(200),
    body: p.text().default(''),
    position: p.integer(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IEbookChapter = InferEntity<typeof EbookChapter>;

export const EbookPosition = defineEntity({
  name: 'EbookPosition',
  tableName: 'ebook_positions',
  primaryKeys: ['ebook', 'user'],
  checks: [{ name: 'ebook_positions_offset_check', expression: '"offset" >= 0' }],
  properties: {
    ebook: () => p.manyToOne(Ebook).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    chapter: () => p.manyToOne(EbookChapter).deleteRule('cascade'),
    offset: p.integer().default(0),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IEbookPosition = InferEntity<typeof EbookPosition>;

export const EbookHighlight = defineEntity({
  name: 'EbookHighlight',
  tableName: 'ebook_highlights',
  indexes: [{ name: 'ebook_highlights_reader_idx', properties: ['ebook', 'user', 'chapter'] }],
  checks: [
    { name: 'ebook_highlights_start_offset_check', expression: 'start_offset >= 0' },
    { name: 'ebook_highlights_check', expression: 'end_offset > start_offset' },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    ebook: () => p.manyToOne(Ebook).deleteRule('cascade'),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    chapter: () => p.manyToOne(EbookChapter).deleteRule('cascade'),
    startOffset: p.integer(),
    endOffset: p.integer(),
    color: p.string().length(16).default('yellow'),
    note: p.text().nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IEbookHighlight = InferEntity<typeof EbookHighlight>;

export const EbookBookmark = defineEntity({
  name: 'EbookBookmark',
  tableName: 'ebook_bookmarks',
  indexes: [{ name: 'ebook_bookmarks_reader_idx', properties: ['ebook', 'user'] }],
  checks: [{ name: 'ebook_bookmarks_offset_check', expression: '"offset" >= 0' }],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    ebook: () => p.manyToOne(Ebook).deleteRule('cascade'),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    chapter: () => p.manyToOne(EbookChapter).deleteRule('cascade'),
    offset: p.integer().default(0),
    label: p.string().length(200).default(''),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IEbookBookmark = InferEntity<typeof EbookBookmark>;
