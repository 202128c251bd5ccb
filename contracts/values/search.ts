// Plain values the search schemas (../search.ts) are built from and the web client checks against. No zod here: the
// app shell's search box is on every page, and must not ship the validation library.

export const SEARCH_TYPES = ['course', 'ebook', 'community', 'classroom', 'person', 'post'] as const;
export type SearchType = (typeof SEARCH_TYPES)[number];
export const SEARCH_SORTS = ['relevance', 'recent', 'popular'] as const;
export type SearchSort = (typeof SEARCH_SORTS)[number];
/** Price buckets of the `price` facet, in the item's own currency's major unit. */
export const PRICE_BUCKETS = ['free', 'under-20', '20-50', '50-plus'] as const;
export type PriceBucket = (typeof PRICE_BUCKETS)[number];
