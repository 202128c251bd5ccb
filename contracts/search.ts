import { z } from 'zod';
import { COURSE_LEVELS } from './courses.ts';
import { SEARCH_SORTS, SEARCH_TYPES, type SearchType } from './values/search.ts';

/** Explorer search: one box for communities, courses, ebooks, classes, people and posts (REST wire shapes). */

export { PRICE_BUCKETS, SEARCH_SORTS, SEARCH_TYPES, type PriceBucket, type SearchSort, type SearchType } from './values/search.ts';

const typeList = z
  .string()
  .max(200)
  .transform((value, ctx) => {
    const types = [...new Set(value.split(',').map((t) => t.trim()).filter(Boolean))];
    for (const t of types) {
      if (!(SEARCH_TYPES as readonly string[]).includes(t)) {
        ctx.addIssue({ code: 'custom', message: `Unknown type ${t.slice(0, 20)}: use ${SEARCH_TYPES.join(', ')}.` });
        return z.NEVER;
      }
    }
    return types as SearchType[];
  });

const flag = z.enum(['1', 'true', '0', 'false']).transform((v) => v === '1' || v === 'true');

export const SearchQuery = z.strictObject({
  /** Words, "quoted phrases", -excluded words, `or`; empty lists everything visible (browse by facets). */
  q: z.string().trim().max(200).default(''),
  types: typeList.optional(),
  level: z.enum(COURSE_LEVELS).optional(),
  /** Highest price in the item's currency's major unit (20 = 20.00); keeps priced kinds only. */
  priceMax: z.coerce.number().min(0).max(1_000_000).optional(),
  free: flag.optional(),
  tag: z.string().trim().toLowerCase().min(1).max(40).optional(),
  communityId: z.uuid().optional(),
  sort: z.enum(SEARCH_SORTS).optional(),
  cursor: z.string().max(300).optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});
export type SearchQuery = z.infer<typeof SearchQuery>;

export const SuggestQuery = z.strictObject({
  q: z.string().trim().min(1).max(100),
  limit: z.coerce.number().int().min(1).max(20).default(8),
});
export type SuggestQuery = z.infer<typeof SuggestQuery>;

export const SearchHit = z.object({
  type: z.enum(SEARCH_TYPES),
  id: z.uuid(),
  title: z.string(),
  /** HTML-escaped text with the matched words in `<mark>…</mark>`; nothing else is markup. */
  snippet: z.string(),
  /** Where the item lives in the web app. */
  url: z.string(),
  communityId: z.uuid().nullable(),
  /** Course level, when the item has one. */
  level: z.enum(COURSE_LEVELS).nullable(),
  tags: z.array(z.string()),
  /** Minor units with currency; null for kinds that are not sold (communities, people, posts). */
  price: z.object({ amountMinor: z.number().int(), currency: z.string().nullable() }).nullable(),
  publishedAt: z.iso.datetime(),
});
export type SearchHit = z.infer<typeof SearchHit>;

const counts = z.record(z.string(), z.number().int());

export const SearchResult = z
  .object({
    hits: z.array(SearchHit),
    /**
     * Counts over everything that matched and the caller may see. `type` ignores the `types` filter (so the other
     * kinds show how many they would give); the others apply every filter.
     */
    facets: z.object({ type: counts, level: counts, tag: counts, price: counts }),
    total: z.number().int(),
    cursor: z.string().nullable(),
    /** Which backend answered: `meilisearch`, or `postgres` (the default and the fallback). */
    engine: z.enum(['postgres', 'meilisearch']),
  })
  .describe('SearchResult');
export type SearchResult = z.infer<typeof SearchResult>;

export const Suggestion = z.object({ type: z.enum(SEARCH_TYPES), id: z.uuid(), title: z.string(), url: z.string() });
export type Suggestion = z.infer<typeof Suggestion>;
export const SuggestResult = z.object({ data: z.array(Suggestion) }).describe('SuggestResult');
export type SuggestResult = z.infer<typeof SuggestResult>;

export const RecentSearches = z
  .object({ data: z.array(z.object({ q: z.string(), searchedAt: z.iso.datetime() })) })
  .describe('RecentSearches');
export type RecentSearches = z.infer<typeof RecentSearches>;

/** The filters of a saved search: the query string of /search without the cursor. */
export const SavedSearchFilters = SearchQuery.omit({ cursor: true, limit: true });

export const SavedSearchInput = z
  .strictObject({
    name: z.string().trim().min(1).max(80),
    /** The search as its URL query, e.g. `q=javascript&types=course`. */
    query: z.string().max(1000),
    alert: z.boolean().default(true),
  })
  .describe('SavedSearchInput');
export type SavedSearchInput = z.infer<typeof SavedSearchInput>;

export const SavedSearchDto = z.object({
  id: z.uuid(),
  name: z.string(),
  query: z.string(),
  alert: z.boolean(),
  createdAt: z.iso.datetime(),
});
export type SavedSearchDto = z.infer<typeof SavedSearchDto>;
export const SavedSearchList = z.object({ data: z.array(SavedSearchDto) }).describe('SavedSearchList');
export type SavedSearchList = z.infer<typeof SavedSearchList>;
