import { sql, type RawBuilder } from 'kysely';
import type { CourseLevel } from '../../contracts/courses.ts';
import {
  SEARCH_TYPES,
  type PriceBucket,
  type SearchHit,
  type SearchQuery,
  type SearchResult,
  type SearchSort,
  type SearchType,
  type Suggestion,
  type SuggestQuery,
} from '../../contracts/search.ts';
import { db, type Db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { documentUrl, type SearchBackend, type SearchOptions, type Viewer } from './backend.ts';
import { highlightedSnippet, plainSnippet, SNIPPET_START, SNIPPET_STOP } from './snippets.ts';
import { documentVisibleTo } from './visibility.ts';

/*
 * The PostgreSQL backend (the embedded default, and the fallback when Meilisearch fails).
 *
 * Matching: `websearch_to_tsquery` over the folded text (quoted phrases, -exclusions, `or`), or — for typos — the
 * query's trigram word similarity to a title (`<%`, pg_trgm's word_similarity_threshold, 0.6 by default: "javscript"
 * finds "JavaScript for beginners"). Both have GIN indexes.
 *
 * Ranking (relevance): cover density of the weighted vector (title A > keywords B > body C, normalised to 0–1),
 * plus the title's word similarity, plus small signals for popularity (log-scaled) and freshness (half-life of six
 * months, measured from the moment of the first page so that later pages rank alike). Ties break by kind and id.
 *
 * Everything is computed over one materialised set — the documents that match and that the viewer may see (through
 * visibility.ts) — so hits, total and facet counts can never disagree about what is visible.
 */

interface Cursor {
  /** Sort key of the last hit, as PostgreSQL printed it (numeric). */
  k: string;
  t: SearchType;
  i: string;
  /** The reference time of the first page (freshness). */
  at: string;
  /** The first page was answered with typo tolerance. */
  ty?: 1;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(value: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      typeof parsed.k === 'string' &&
      /^-?\d+(\.\d+)?$/.test(parsed.k) &&
      (SEARCH_TYPES as readonly string[]).includes(parsed.t as string) &&
      typeof parsed.i === 'string' &&
      /^[0-9a-f-]{36}$/.test(parsed.i) &&
      typeof parsed.at === 'string' &&
      !Number.isNaN(Date.parse(parsed.at)) &&
      (parsed.ty === undefined || parsed.ty === 1)
    ) {
      return parsed as Cursor;
    }
  } catch {
    // fall through
  }
  throw new AppError('invalid_input', 'This cursor is not valid: start from the first page again.', { details: { field: 'cursor' } });
}

export function priceBucket(priceMinor: number | null): PriceBucket | null {
  if (priceMinor === null) return null;
  if (priceMinor === 0) return 'free';
  if (priceMinor < 2000) return 'under-20';
  if (priceMinor <= 5000) return '20-50';
  return '50-plus';
}

const PRICE_BUCKET_SQL = sql<string | null>`case
  when d.price_minor is null then null
  when d.price_minor = 0 then 'free'
  when d.price_minor < 2000 then 'under-20'
  when d.price_minor <= 5000 then '20-50'
  else '50-plus' end`;

/** The hit columns a facet row leaves empty: source_id, community_id, title, snippet (before value)… */
const FACET_NULLS = sql.raw('null, null, null, null');
/** …and tags, level, price_minor, currency, published_at, k (after value). */
const FACET_TAIL = sql.raw('null, null, null, null, null, null');

/** Whether a query gets trigram typo tolerance: one word (no spaces, quotes or operators) of 4 letters or more. */
export function typoTolerant(text: string): boolean {
  return /^[\p{L}\p{N}'’-]{4,}$/u.test(text.trim());
}

/** A prefix query over title words: `intro & jav:*` for "intro jav". */
export function titlePrefixQuery(folded: string): string | null {
  const words = folded.match(/[\p{L}\p{N}]+/gu);
  if (!words?.length) return null;
  return words.map((w, index) => (index === words.length - 1 ? `${w}:*` : w)).join(' & ');
}

export function effectiveSort(query: Pick<SearchQuery, 'q' | 'sort'>): SearchSort {
  return query.sort ?? (query.q ? 'relevance' : 'popular');
}

/** The answer to one query for one viewer. `q` is bound to the caller's transaction or the pool. */
/** Below this many exact matches, a one-word query is run again with typo tolerance. */
const TYPO_FALLBACK_BELOW = 5;

export async function searchDocuments(q: Db, viewer: Viewer, query: SearchQuery, now: Date, options: SearchOptions = {}): Promise<SearchResult> {
  const cursor = query.cursor ? decodeCursor(query.cursor) : null;
  // Typo tolerance is for a single word of 4 letters or more, and only when the words as typed find (almost)
  // nothing: on every query it widened common words by thousands of near-miss titles (docs/performance.md, Search).
  // A later page keeps the mode of the first.
  if (cursor?.ty || !query.q || !typoTolerant(query.q)) return runSearch(q, viewer, query, now, options, cursor, Boolean(cursor?.ty));
  const exact = await runSearch(q, viewer, query, now, options, cursor, false);
  if (exact.total >= TYPO_FALLBACK_BELOW) return exact;
  return runSearch(q, viewer, query, now, options, cursor, true);
}

async function runSearch(
  q: Db,
  viewer: Viewer,
  query: SearchQuery,
  now: Date,
  options: SearchOptions,
  cursor: Cursor | null,
  typos: boolean,
): Promise<SearchResult> {
  const at = cursor ? new Date(cursor.at) : now;
  const sort = effectiveSort(query);
  const text = query.q;
  const types = query.types?.length ? query.types : SEARCH_TYPES;

  const textMatch: RawBuilder<boolean> = !text
    ? sql<boolean>`true`
    : typos
      ? sql<boolean>`(d.tsv @@ input.tsq or input.folded <% d.title_folded)`
      : sql<boolean>`d.tsv @@ input.tsq`;
  const filters: RawBuilder<boolean>[] = [textMatch];
  if (query.level) filters.push(sql<boolean>`d.level = ${query.level}`);
  if (query.tag) filters.push(sql<boolean>`${query.tag} = any(d.tags)`);
  if (query.free === true) filters.push(sql<boolean>`d.price_minor = 0`);
  if (query.free === false) filters.push(sql<boolean>`d.price_minor > 0`);
  if (query.priceMax !== undefined) filters.push(sql<boolean>`d.price_minor <= ${Math.round(query.priceMax * 100)}`);
  if (query.communityId) filters.push(sql<boolean>`d.community_id = ${query.communityId}`);
  if (options.newSince) filters.push(sql<boolean>`d.first_indexed_at > ${options.newSince}`);
  if (options.newUntil) filters.push(sql<boolean>`d.first_indexed_at <= ${options.newUntil}`);
  const where = sql.join(filters, sql` and `);

  const relevance = text
    ? sql`(ts_rank_cd(d.tsv, input.tsq, 32)
          + 0.6 * word_similarity(input.folded, d.title_folded)
          + case when d.title_folded = input.folded then 0.5 else 0 end)`
    : sql`0`;
  const signals = sql`(0.05 * least(ln(1 + d.popularity) / ln(1001), 1)
          + 0.05 * exp(-greatest(extract(epoch from (${at}::timestamptz - d.published_at)), 0) / 15552000))`;
  const sortKey =
    sort === 'relevance'
      ? sql`round((${relevance} + ${signals})::numeric, 9)`
      : sort === 'recent'
        ? sql`round(extract(epoch from d.published_at)::numeric, 6)`
        : sql`(d.popularity::numeric)`;

  const typeFilter = sql<boolean>`m.type = any(${[...types]}::text[])`;
  const after = cursor
    ? sql<boolean>`(m.k < ${cursor.k}::numeric or (m.k = ${cursor.k}::numeric and (m.type, m.source_id) > (${cursor.t}::text, ${cursor.i}::uuid)))`
    : sql<boolean>`true`;

  const statement = sql<{
    kind: 'hit' | 'type' | 'level' | 'tag' | 'price' | 'total';
    type: string | null;
    source_id: string | null;
    community_id: string | null;
    title: string | null;
    snippet: string | null;
    tags: string[] | null;
    level: string | null;
    price_minor: number | null;
    currency: string | null;
    published_at: Date | null;
    k: string | null;
    value: string | null;
    n: number;
  }>`
    with input as (
      select websearch_to_tsquery('simple', search_fold(${text})) as tsq, search_fold(${text}) as folded
    ),
    matched as materialized (
      select d.type, d.source_id, d.tags, d.level, ${PRICE_BUCKET_SQL} as price_bucket, ${sortKey} as k
      from search_documents d cross join input
      where ${where} and ${documentVisibleTo(viewer, now)}
    ),
    filtered as materialized (
      select * from matched m where ${typeFilter}
    ),
    page as (
      select m.type, m.source_id, m.k from filtered m where ${after} order by m.k desc, m.type, m.source_id limit ${query.limit + 1}
    )
    select 'hit' as kind, p.type, p.source_id, p.community_id, p.title,
           case when ${text} = '' or p.body = '' then null
                else ts_headline('simple', p.body, input.tsq,
                       ${`StartSel=${SNIPPET_START}, StopSel=${SNIPPET_STOP}, MaxWords=28, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "`})
           end as snippet,
           case when p.body = '' then null else left(p.body, 400) end as value,
           p.tags, p.level, p.price_minor, p.currency, p.published_at, pk.k::text as k, 0 as n
      from page pk join search_documents p on p.type = pk.type and p.source_id = pk.source_id cross join input
    union all
    select 'type', m.type, ${FACET_NULLS}, null, ${FACET_TAIL}, count(*)::int from matched m group by m.type
    union all
    select 'level', null, ${FACET_NULLS}, f.level, ${FACET_TAIL}, count(*)::int
      from filtered f where f.level is not null group by f.level
    union all
    select 'tag', null, ${FACET_NULLS}, t.tag, ${FACET_TAIL}, count(*)::int
      from filtered f cross join lateral unnest(f.tags) as t(tag) group by t.tag
    union all
    select 'price', null, ${FACET_NULLS}, f.price_bucket, ${FACET_TAIL}, count(*)::int
      from filtered f where f.price_bucket is not null group by f.price_bucket
    union all
    select 'total', null, ${FACET_NULLS}, null, ${FACET_TAIL}, count(*)::int from filtered
  `;
  const rows = (await statement.execute(q)).rows;

  const hitRows = rows.filter((r) => r.kind === 'hit').sort((a, b) => compareKeys(b.k!, a.k!) || a.type!.localeCompare(b.type!) || a.source_id!.localeCompare(b.source_id!));
  const more = hitRows.length > query.limit;
  const pageRows = hitRows.slice(0, query.limit);
  const hits: SearchHit[] = pageRows.map((r) => ({
    type: r.type as SearchType,
    id: r.source_id!,
    title: r.title!,
    snippet: r.snippet ? highlightedSnippet(r.snippet) : plainSnippet(r.value ?? ''),
    url: documentUrl({ type: r.type as SearchType, id: r.source_id!, communityId: r.community_id }),
    communityId: r.community_id,
    level: (r.level as CourseLevel | null) ?? null,
    tags: r.tags ?? [],
    price: r.price_minor === null ? null : { amountMinor: r.price_minor, currency: r.currency },
    publishedAt: r.published_at!.toISOString(),
  }));
  const counts = (kind: string) => {
    const entries = rows.filter((r) => r.kind === kind).map((r) => [kind === 'type' ? r.type! : r.value!, r.n] as const);
    entries.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return Object.fromEntries(kind === 'tag' ? entries.slice(0, 20) : entries);
  };
  const last = pageRows[pageRows.length - 1];
  return {
    hits,
    facets: { type: counts('type'), level: counts('level'), tag: counts('tag'), price: counts('price') },
    total: rows.find((r) => r.kind === 'total')?.n ?? 0,
    cursor: more && last ? encodeCursor({ k: last.k!, t: last.type as SearchType, i: last.source_id!, at: at.toISOString(), ...(typos ? { ty: 1 as const } : {}) }) : null,
    engine: 'postgres',
  };
}

/** Compares two numeric sort keys printed by PostgreSQL (exactly, as decimals). */
function compareKeys(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Suggestions as you type: titles whose words start with what was typed, then near misses of a typo. */
/** How many of the most popular prefix matches are checked for visibility before the best are kept. */
const SUGGEST_CANDIDATES = 300;

/**
 * Suggestions as you type (two letters or more): titles with words starting with what was typed — the most popular
 * few hundred, then those the viewer may see, whole-prefix matches first — and, when that leaves room and one word of
 * four letters or more was typed, titles that nearly match it (a typo).
 */
export async function suggestDocuments(q: Db, viewer: Viewer, query: SuggestQuery, now: Date): Promise<Suggestion[]> {
  const folded = (await sql<{ f: string }>`select search_fold(${query.q}) as f`.execute(q)).rows[0]!.f;
  const prefix = titlePrefixQuery(folded);
  if (!prefix || folded.replace(/[^\p{L}\p{N}]/gu, '').length < 2) return [];
  type Row = { type: SearchType; source_id: string; title: string; community_id: string | null };
  const rows = (
    await sql<Row>`
      with candidates as (
        select d.type, d.source_id, d.title, d.title_folded, d.community_id, d.author_id, d.popularity
        from search_documents d
        where d.title_tsv @@ to_tsquery('simple', ${prefix})
        order by d.popularity desc, d.type, d.source_id
        limit ${SUGGEST_CANDIDATES}
      )
      select d.type, d.source_id, d.title, d.community_id
      from candidates d
      where ${documentVisibleTo(viewer, now)}
      order by (d.title_folded like ${`${folded.replace(/[\\%_]/g, '\\$&')}%`}) desc, d.popularity desc, d.type, d.source_id
      limit ${query.limit}`.execute(q)
  ).rows;
  if (rows.length < query.limit && typoTolerant(query.q)) {
    const seen = rows.map((r) => r.source_id);
    const nearMisses = (
      await sql<Row>`
        select d.type, d.source_id, d.title, d.community_id
        from search_documents d
        where ${folded} <% d.title_folded
          and not (d.source_id = any(${seen}::uuid[]))
          and ${documentVisibleTo(viewer, now)}
        order by word_similarity(${folded}, d.title_folded) desc, d.popularity desc, d.type, d.source_id
        limit ${query.limit - rows.length}`.execute(q)
    ).rows;
    rows.push(...nearMisses);
  }
  return rows.map((r) => ({
    type: r.type,
    id: r.source_id,
    title: r.title,
    url: documentUrl({ type: r.type, id: r.source_id, communityId: r.community_id }),
  }));
}

export function createPostgresSearch(deps: Pick<Deps, 'orm' | 'clock'>): SearchBackend {
  return {
    engine: 'postgres',
    search: (viewer, query) => searchDocuments(db(deps.orm.em.fork()), viewer, query, deps.clock.now()),
    suggest: (viewer, query) => suggestDocuments(db(deps.orm.em.fork()), viewer, query, deps.clock.now()),
  };
}
