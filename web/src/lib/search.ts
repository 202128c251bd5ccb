import type { CourseLevel } from '$contracts/courses.ts';
import { COURSE_LEVELS } from '$contracts/values/courses.ts';
import { SEARCH_SORTS, SEARCH_TYPES, type SearchSort, type SearchType } from '$contracts/values/search.ts';

/*
 * The explorer's filters as the web app keeps them: in the URL of /app/search (so back, forward and a shared link give
 * the same page), read here into one shape and written back as links. The API's own query (`GET /search`) is built
 * from the same shape, by the page's load and by "Load more" alike.
 */

/** The price choices of the results page; each maps onto the API's `free` and `priceMax`. */
export const PRICE_FILTERS = ['free', 'paid', 'under-20', 'up-to-50'] as const;
export type PriceFilter = (typeof PRICE_FILTERS)[number];

export interface SearchFilters {
  q: string;
  /** One kind (a tab), or every kind when empty. */
  types: SearchType[];
  level: CourseLevel | null;
  tag: string | null;
  price: PriceFilter | null;
  sort: SearchSort;
  communityId: string | null;
}

export const TYPE_LABELS: Record<SearchType, { one: string; many: string }> = {
  course: { one: 'Course', many: 'Courses' },
  ebook: { one: 'Ebook', many: 'Ebooks' },
  community: { one: 'Community', many: 'Communities' },
  classroom: { one: 'Live class', many: 'Live classes' },
  person: { one: 'Person', many: 'People' },
  post: { one: 'Post', many: 'Posts' },
};

/** Badge colours per kind (literals, so Tailwind generates them; the dark theme mirrors the palette). */
export const TYPE_BADGES: Record<SearchType, string> = {
  course: 'bg-blue-100 text-blue-900',
  ebook: 'bg-purple-100 text-purple-900',
  community: 'bg-green-100 text-green-900',
  classroom: 'bg-amber-100 text-amber-900',
  person: 'bg-indigo-100 text-indigo-900',
  post: 'bg-slate-200 text-slate-900',
};

export const PRICE_LABELS: Record<PriceFilter, string> = {
  free: 'Free',
  paid: 'Paid',
  'under-20': 'Under 20',
  'up-to-50': 'Up to 50',
};

export const SORT_LABELS: Record<SearchSort, string> = { relevance: 'Best match', recent: 'Newest', popular: 'Most popular' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whatever the address says, made safe: unknown values are dropped rather than refused. */
export function filtersFromUrl(params: URLSearchParams): SearchFilters {
  const types = (params.get('types') ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t): t is SearchType => (SEARCH_TYPES as readonly string[]).includes(t));
  const level = params.get('level') ?? '';
  const tag = (params.get('tag') ?? '').trim().toLowerCase().slice(0, 40);
  const price = params.get('price') ?? '';
  const sort = params.get('sort') ?? '';
  const communityId = params.get('communityId') ?? '';
  return {
    q: (params.get('q') ?? '').trim().slice(0, 200),
    types: [...new Set(types)],
    level: (COURSE_LEVELS as readonly string[]).includes(level) ? (level as CourseLevel) : null,
    tag: tag || null,
    price: (PRICE_FILTERS as readonly string[]).includes(price) ? (price as PriceFilter) : null,
    sort: (SEARCH_SORTS as readonly string[]).includes(sort) ? (sort as SearchSort) : 'relevance',
    communityId: UUID.test(communityId) ? communityId.toLowerCase() : null,
  };
}

/** Filters that narrow the results (the words and the order aside). */
export function hasFilters(filters: SearchFilters): boolean {
  return filters.types.length > 0 || filters.level !== null || filters.tag !== null || filters.price !== null || filters.communityId !== null;
}

/** Nothing asked yet: no words and no filters (the page shows recent searches and popular things instead). */
export function isBlank(filters: SearchFilters): boolean {
  return filters.q === '' && !hasFilters(filters);
}

/** The page's own query string: only what differs from the defaults, in a stable order. */
export function searchParams(filters: SearchFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.q) params.set('q', filters.q);
  if (filters.types.length) params.set('types', filters.types.join(','));
  if (filters.level) params.set('level', filters.level);
  if (filters.tag) params.set('tag', filters.tag);
  if (filters.price) params.set('price', filters.price);
  if (filters.sort !== 'relevance') params.set('sort', filters.sort);
  if (filters.communityId) params.set('communityId', filters.communityId);
  return params;
}

/** A link to the results page with some filters changed (a facet chosen or removed, a tab picked). */
export function searchHref(filters: SearchFilters, changes: Partial<SearchFilters> = {}): string {
  const query = searchParams({ ...filters, ...changes }).toString();
  return query ? `/app/search?${query}` : '/app/search';
}

/** The API's query (`GET /api/v1/search`) for these filters. */
export function apiSearchQuery(filters: SearchFilters, page: { cursor?: string | null; limit?: number } = {}): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.q) params.set('q', filters.q);
  if (filters.types.length) params.set('types', filters.types.join(','));
  if (filters.level) params.set('level', filters.level);
  if (filters.tag) params.set('tag', filters.tag);
  if (filters.price === 'free') params.set('free', 'true');
  if (filters.price === 'paid') params.set('free', 'false');
  // The API's buckets: under 20 is below 20.00, "20-50" runs up to 50.00 inclusive.
  if (filters.price === 'under-20') params.set('priceMax', '19.99');
  if (filters.price === 'up-to-50') params.set('priceMax', '50');
  if (filters.sort !== 'relevance') params.set('sort', filters.sort);
  if (filters.communityId) params.set('communityId', filters.communityId);
  if (page.cursor) params.set('cursor', page.cursor);
  params.set('limit', String(page.limit ?? 20));
  return params;
}

/** How many items each price choice would keep, from the API's price buckets. */
export function priceCounts(buckets: Record<string, number>): Record<PriceFilter, number> {
  const free = buckets.free ?? 0;
  const under20 = buckets['under-20'] ?? 0;
  const mid = buckets['20-50'] ?? 0;
  const high = buckets['50-plus'] ?? 0;
  return { free, paid: under20 + mid + high, 'under-20': free + under20, 'up-to-50': free + under20 + mid };
}

/** "Free", "€29.00", or null for kinds that are not sold. */
export function hitPrice(price: { amountMinor: number; currency: string | null } | null): string | null {
  if (!price) return null;
  if (price.amountMinor === 0) return 'Free';
  if (!price.currency) return (price.amountMinor / 100).toFixed(2);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: price.currency }).format(price.amountMinor / 100);
  } catch {
    return `${(price.amountMinor / 100).toFixed(2)} ${price.currency}`;
  }
}

/** A hit's or suggestion's address, kept inside the app (anything else becomes the results page). */
export function appPath(url: string): string {
  return /^\/app\/[A-Za-z0-9/_-]*(\?[^\s]*)?$/.test(url) && !url.includes('//') ? url : '/app/search';
}

/** Items grouped by kind, in the explorer's order of kinds. */
export function groupByType<T extends { type: SearchType }>(items: readonly T[]): { type: SearchType; items: T[] }[] {
  return SEARCH_TYPES.map((type) => ({ type, items: items.filter((i) => i.type === type) })).filter((g) => g.items.length > 0);
}

/**
 * A plain text cut into the parts that match the words searched for and the rest, to mark matches without markup
 * (case-insensitive; the words of a search as typed, quotes and a leading minus dropped).
 */
export function matchParts(text: string, q: string): { text: string; match: boolean }[] {
  const words = q
    .split(/\s+/)
    .filter((w) => w && !w.startsWith('-'))
    .map((w) => w.replace(/^"+|"+$/g, ''))
    .filter((w) => w.length >= 2 && w.toLowerCase() !== 'or')
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (!words.length || !text) return text ? [{ text, match: false }] : [];
  const pattern = new RegExp(`(${words.join('|')})`, 'gi');
  return text
    .split(pattern)
    .filter((part) => part !== '')
    .map((part) => ({ text: part, match: words.some((w) => new RegExp(`^${w}$`, 'i').test(part)) }));
}
