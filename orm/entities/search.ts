import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './auth.ts';

/**
 * Explorer search: one row per searchable item (the index of record, written by domain/search/indexer.ts), each
 * user's recent searches, and saved searches with their alerts. See the search migration for the folding functions.
 */
export const SearchDocument = defineEntity({
  name: 'SearchDocument',
  tableName: 'search_documents',
  primaryKeys: ['type', 'sourceId'],
  checks: [
    {
      name: 'search_documents_type_check',
      expression: "(type)::text = ANY ((ARRAY['course'::character varying, 'ebook'::character varying, 'community'::character varying, 'classroom'::character varying, 'person'::character varying, 'post'::character varying])::text[])",
    },
    {
      name: 'search_documents_community_visibility_check',
      expression: "(community_visibility)::text = ANY ((ARRAY['public'::character varying, 'private'::character varying])::text[])",
    },
  ],
  indexes: [
    { name: 'search_documents_tsv_idx', properties: ['tsv'], type: 'gin' },
    { name: 'search_documents_title_tsv_idx', properties: ['titleTsv'], type: 'gin' },
    {
      name: 'search_documents_title_trgm_idx',
      expression: 'CREATE INDEX search_documents_title_trgm_idx ON public.search_documents USING gin (title_folded gin_trgm_ops)',
    },
    {
      name: 'search_documents_recent_idx',
      properties: ['publishedAt', 'type', 'sourceId'],
      columns: [{ name: 'published_at', sort: 'DESC' }, { name: 'type' }, { name: 'source_id' }],
    },
    { name: 'search_documents_community_idx', properties: ['communityId'] },
    { name: 'search_documents_new_idx', properties: ['firstIndexedAt'] },
  ],
  properties: {
    type: p.enum(['course', 'ebook', 'community', 'classroom', 'person', 'post']).columnType('varchar(16)').primary(),
    sourceId: p.uuid().primary(),
    communityId: p.uuid().nullable(),
    communityVisibility: p.enum(['public', 'private']).columnType('varchar(8)').nullable(),
    authorId: p.uuid().nullable(),
    title: p.text(),
    keywords: p.text().default(''),
    body: p.text().default(''),
    tags: p.array().default([]),
    level: p.string().length(16).nullable(),
    priceMinor: p.integer().nullable(),
    currency: p.string().length(3).nullable(),
    popularity: p.integer().default(0),
    publishedAt: p.datetime(),
    firstIndexedAt: p.datetime().defaultRaw(`now()`),
    indexedAt: p.datetime().defaultRaw(`now()`),
    titleFolded: p.text().generated('search_fold(title) stored').nullable(),
    titleTsv: p.string().columnType('tsvector').generated("to_tsvector('simple'::regconfig, search_fold(title)) stored").nullable(),
    tsv: p.string().columnType('tsvector').generated('search_vector(title, keywords, body) stored').nullable(),
  },
});
export type ISearchDocument = InferEntity<typeof SearchDocument>;

export const SearchHistory = defineEntity({
  name: 'SearchHistory',
  tableName: 'search_history',
  primaryKeys: ['user', 'query'],
  indexes: [
    {
      name: 'search_history_recent_idx',
      properties: ['user', 'searchedAt'],
      columns: [{ name: 'user_id' }, { name: 'searched_at', sort: 'DESC' }],
    },
  ],
  properties: {
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    query: p.string().length(200).primary(),
    searchedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});

export const SavedSearch = defineEntity({
  name: 'SavedSearch',
  tableName: 'saved_searches',
  indexes: [
    {
      name: 'saved_searches_user_idx',
      properties: ['user', 'createdAt'],
      columns: [{ name: 'user_id' }, { name: 'created_at', sort: 'DESC' }],
    },
    { name: 'saved_searches_alert_idx', properties: ['checkedAt'], where: 'alert' },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    name: p.string().length(80),
    query: p.string().length(1000),
    alert: p.boolean().default(true),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    checkedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
