import { Meilisearch, type EnqueuedTask, type EnqueuedTaskPromise, type MultiSearchParams, type Settings, type Task } from 'meilisearch';
import type { SearchHit, SearchQuery, SearchResult, SearchSort, SearchType, Suggestion, SuggestQuery } from '../../contracts/search.ts';
import { db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { withTimeout } from '../shared/time.ts';
import { documentUrl, type DocumentRef, type ExternalIndex, type SearchBackend, type SearchDocument, type Viewer } from './backend.ts';
import { effectiveSort, priceBucket } from './postgres.ts';
import { highlightedSnippet, plainSnippet, SNIPPET_START, SNIPPET_STOP } from './snippets.ts';
import { refKey, viewerScope, visibleRefs } from './visibility.ts';

/*
 * The Meilisearch backend (MEILI_URL), through the official client.
 *
 * Writing. The index is fed the documents PostgreSQL holds (indexer.ts). Upserts and removals gather for a short
 * window and go out as one request per kind; each caller's promise settles when its batch's tasks have succeeded.
 * `rebuild` fills a new index and swaps it in, so there is never a moment without one; updates that arrive while
 * it runs are sent to both indexes, so none is lost by the swap.
 *
 * Reading. Visibility never comes from the client: the server adds a filter built from the viewer's memberships,
 * bans and hidden people (viewerScope), written to match visibility.ts's predicates where the index holds what they
 * need, and then re-checks the page of hits against PostgreSQL (visibleRefs), because an index that lags a change
 * (a community made private, a post hidden, someone blocked) must not leak. Hits dropped there are logged.
 *
 * Failing. Every request has a short timeout, so an unreachable engine rejects quickly and the service answers
 * from PostgreSQL (service.ts).
 */

export interface MeiliOptions {
  url: string;
  apiKey?: string;
  /** The live index. `rebuild` swaps fresh `<name>_<timestamp>` indexes in under this name. */
  indexName?: string;
  /** Per HTTP request. */
  timeoutMs?: number;
  /** How long upserts and removals gather before one request. */
  batchWindowMs?: number;
  /** How long a write waits for its task to be processed (the engine may be busy indexing). */
  taskTimeoutMs?: number;
}

export const INDEX_SETTINGS = {
  searchableAttributes: ['title', 'keywords', 'body'],
  filterableAttributes: ['type', 'communityId', 'communityVisibility', 'authorId', 'level', 'tags', 'priceMinor', 'priceBucket', 'publishedAt'],
  sortableAttributes: ['publishedAt', 'popularity', 'priceMinor'],
  displayedAttributes: ['*'],
  // Meilisearch's default rules, then popularity to break ties.
  rankingRules: ['words', 'typo', 'proximity', 'attribute', 'sort', 'exactness', 'popularity:desc'],
  typoTolerance: { enabled: true, minWordSizeForTypos: { oneTypo: 5, twoTypos: 9 } },
  faceting: { maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'count' } },
  pagination: { maxTotalHits: 1000 },
} satisfies Settings;

const MAX_TOTAL_HITS = INDEX_SETTINGS.pagination.maxTotalHits;
const MAX_BATCH = 1000;
const SNIPPET_WORDS = 28;
const SORTS: Record<SearchSort, string[] | undefined> = {
  relevance: undefined,
  recent: ['publishedAt:desc'],
  popular: ['popularity:desc', 'publishedAt:desc'],
};
const RETRIEVED = ['type', 'id', 'title', 'body', 'communityId', 'level', 'tags', 'priceMinor', 'currency', 'publishedAt'] as const;

/** Meilisearch ids allow only a-z A-Z 0-9 - _. */
export const meiliKey = (ref: DocumentRef) => `${ref.type}-${ref.id}`;
/** The snippet markers must not occur in indexed text (see snippets.ts). */
const clean = (text: string) => text.replaceAll(SNIPPET_START, '').replaceAll(SNIPPET_STOP, '');

export function toMeiliDocument(doc: SearchDocument) {
  return {
    key: meiliKey(doc),
    type: doc.type,
    id: doc.id,
    communityId: doc.communityId,
    communityVisibility: doc.communityVisibility,
    authorId: doc.authorId,
    title: clean(doc.title),
    keywords: clean(doc.keywords),
    body: clean(doc.body),
    tags: doc.tags,
    level: doc.level,
    priceMinor: doc.priceMinor,
    priceBucket: priceBucket(doc.priceMinor),
    currency: doc.currency,
    popularity: doc.popularity,
    /** Epoch milliseconds: Meilisearch filters and sorts numbers, not dates. */
    publishedAt: doc.publishedAt.getTime(),
  };
}
export type MeiliDocument = ReturnType<typeof toMeiliDocument>;
type RetrievedHit = Pick<MeiliDocument, (typeof RETRIEVED)[number]>;

// ---- filters ----------------------------------------------------------------------------------------------------

const quote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;
const list = (values: readonly string[]) => `[${values.map(quote).join(', ')}]`;
const all = (clauses: readonly string[]) => clauses.map((c) => `(${c})`).join(' AND ');

export type ViewerScope = Awaited<ReturnType<typeof viewerScope>>;

/**
 * What the viewer may see, as Meilisearch filter clauses (all must hold). Items outside communities and in public
 * ones are open, private ones to their members; people and posts are for signed-in viewers; posts of a community
 * that barred the viewer, and posts and profiles of people hidden from them, are out (visibility.ts).
 */
export function visibilityClauses(viewer: Viewer, scope: ViewerScope): string[] {
  const open = ['communityId IS NULL', 'communityVisibility = "public"'];
  if (scope.memberCommunityIds.length) open.push(`communityId IN ${list(scope.memberCommunityIds)}`);
  const clauses = [open.join(' OR ')];
  if (!viewer) clauses.push('type NOT IN ["person", "post"]');
  if (scope.barredCommunityIds.length) clauses.push(`NOT (type = "post" AND communityId IN ${list(scope.barredCommunityIds)})`);
  if (scope.hiddenAuthorIds.length) clauses.push(`NOT (type IN ["person", "post"] AND authorId IN ${list(scope.hiddenAuthorIds)})`);
  return clauses;
}

/** The caller's own filters, except `types` (the type facet is counted without it). */
function queryClauses(query: SearchQuery): string[] {
  const clauses: string[] = [];
  if (query.level) clauses.push(`level = ${quote(query.level)}`);
  if (query.tag) clauses.push(`tags = ${quote(query.tag)}`);
  if (query.free === true) clauses.push('priceMinor = 0');
  if (query.free === false) clauses.push('priceMinor > 0');
  if (query.priceMax !== undefined) clauses.push(`priceMinor <= ${Math.round(query.priceMax * 100)}`);
  if (query.communityId) clauses.push(`communityId = ${quote(query.communityId)}`);
  return clauses;
}

/** `or` between words (as PostgreSQL's websearch syntax reads it) becomes "any word will do" ranking. */
function textOf(q: string): { text: string; matchingStrategy: 'all' | 'last' } {
  const withoutOr = q.replace(/(^|\s)or(?=\s|$)/gi, ' ').replace(/\s+/g, ' ').trim();
  return withoutOr === q.replace(/\s+/g, ' ').trim() ? { text: q, matchingStrategy: 'all' } : { text: withoutOr, matchingStrategy: 'last' };
}

// ---- cursors ----------------------------------------------------------------------------------------------------

const encodeCursor = (offset: number) => Buffer.from(JSON.stringify({ m: offset })).toString('base64url');

function decodeCursor(value: string | undefined): number {
  if (!value) return 0;
  try {
    const { m } = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { m?: unknown };
    if (typeof m === 'number' && Number.isInteger(m) && m >= 0 && m < MAX_TOTAL_HITS) return m;
  } catch {
    // fall through
  }
  throw new AppError('invalid_input', 'This cursor is not valid: start from the first page again.', { details: { field: 'cursor' } });
}

/** Facet counts, largest first (tags: the 20 largest), like the PostgreSQL backend. */
function counts(distribution: Record<string, number> | undefined, top = Infinity): Record<string, number> {
  const entries = Object.entries(distribution ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return Object.fromEntries(entries.slice(0, top));
}

export class MeiliTaskError extends Error {
  readonly task: Task;
  constructor(task: Task) {
    super(`Meilisearch task ${task.uid} (${task.type}) ${task.status}${task.error ? `: ${task.error.message}` : ''}`);
    this.task = task;
    this.name = 'MeiliTaskError';
  }
}

// ---- the backend and the index ------------------------------------------------------------------------------------

export function createMeiliSearch(
  deps: Pick<Deps, 'orm' | 'clock' | 'logger'>,
  options: MeiliOptions,
): { backend: SearchBackend; index: ExternalIndex } {
  const indexName = options.indexName ?? 'edulure';
  const timeoutMs = options.timeoutMs ?? 2000;
  const taskTimeoutMs = options.taskTimeoutMs ?? 30_000;
  const client = new Meilisearch({ host: options.url, apiKey: options.apiKey, timeout: timeoutMs, defaultWaitOptions: { timeout: taskTimeoutMs, interval: 50 } });
  const healthClient = new Meilisearch({ host: options.url, apiKey: options.apiKey, timeout: Math.min(timeoutMs, 1000) });
  const live = client.index<MeiliDocument>(indexName);

  /** Waits for an enqueued task and insists that it succeeded. */
  async function settle(enqueued: EnqueuedTaskPromise | EnqueuedTask, timeout = taskTimeoutMs): Promise<Task> {
    const task = await client.tasks.waitForTask((await enqueued).taskUid, { timeout });
    if (task.status !== 'succeeded') throw new MeiliTaskError(task);
    return task;
  }

  async function createIndexWithSettings(uid: string, existingIsFine: boolean): Promise<void> {
    const created = await client.tasks.waitForTask((await client.createIndex(uid, { primaryKey: 'key' })).taskUid);
    if (created.status !== 'succeeded' && !(existingIsFine && created.error?.code === 'index_already_exists')) throw new MeiliTaskError(created);
    await settle(client.index(uid).updateSettings(INDEX_SETTINGS));
  }

  // Settings are applied once per process; a failed attempt (engine down at start-up) is retried by the next call.
  let prepared: Promise<void> | null = null;
  const ensurePrepared = () =>
    (prepared ??= createIndexWithSettings(indexName, true).catch((err: unknown) => {
      prepared = null;
      throw err;
    }));
  /** Queries do not wait on a busy engine's settings task longer than on any other request. */
  const preparedForQueries = () => withTimeout(ensurePrepared(), timeoutMs, 'Meilisearch index settings');

  // ---- batched writes --------------------------------------------------------------------------------------------

  interface Batch {
    /** Latest operation per key: the document to write, or null to remove it. */
    ops: Map<string, MeiliDocument | null>;
    waiters: { resolve(): void; reject(err: unknown): void }[];
    timer: NodeJS.Timeout;
  }
  let pending: Batch | null = null;
  /** Batches are enqueued one after another so the engine applies them in the order they were made. */
  let enqueuing: Promise<unknown> = Promise.resolve();
  /** The index a rebuild is filling: updates go there too until it is swapped in. */
  let mirror: string | null = null;

  function write(ops: [string, MeiliDocument | null][]): Promise<void> {
    if (!ops.length) return Promise.resolve();
    const batch: Batch = (pending ??= { ops: new Map(), waiters: [] as Batch['waiters'], timer: setTimeout(flush, options.batchWindowMs ?? 50) });
    for (const [key, doc] of ops) batch.ops.set(key, doc);
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (batch.ops.size >= MAX_BATCH) flush();
    return done;
  }

  function flush(): void {
    const batch = pending;
    if (!batch) return;
    pending = null;
    clearTimeout(batch.timer);
    const upserts = [...batch.ops.values()].filter((doc): doc is MeiliDocument => doc !== null);
    const removals = [...batch.ops].filter(([, doc]) => doc === null).map(([key]) => key);
    const enqueued = enqueuing.then(async () => {
      await ensurePrepared();
      const tasks: EnqueuedTask[] = [];
      for (const uid of mirror ? [indexName, mirror] : [indexName]) {
        if (upserts.length) tasks.push(await client.index(uid).addDocuments(upserts, { primaryKey: 'key' }));
        if (removals.length) tasks.push(await client.index(uid).deleteDocuments(removals));
      }
      return tasks;
    });
    enqueuing = enqueued.catch(() => undefined);
    enqueued
      .then((tasks) => Promise.all(tasks.map((task) => settle(task))))
      .then(
        () => batch.waiters.forEach((w) => w.resolve()),
        (err: unknown) => batch.waiters.forEach((w) => w.reject(err)),
      );
  }

  const index: ExternalIndex = {
    prepare: () => ensurePrepared(),
    upsert: (documents) => write(documents.map((doc) => [meiliKey(doc), toMeiliDocument(doc)])),
    remove: (refs) => write(refs.map((ref) => [meiliKey(ref), null])),

    async rebuild(batches, onProgress) {
      // The live index exists first (with its settings), so the fresh one can always be swapped with it.
      await ensurePrepared();
      const uid = `${indexName}_${Date.now()}`;
      try {
        await createIndexWithSettings(uid, false);
        mirror = uid;
        const tasks: EnqueuedTask[] = [];
        let done = 0;
        for await (const documents of batches) {
          if (!documents.length) continue;
          tasks.push(await client.index(uid).addDocuments(documents.map(toMeiliDocument), { primaryKey: 'key' }));
          done += documents.length;
          onProgress?.(done);
        }
        for (const task of tasks) await settle(task, Math.max(taskTimeoutMs, 600_000));
        await settle(client.swapIndexes([{ indexes: [indexName, uid], rename: false }]));
        mirror = null;
        // Batches already addressed to both indexes are enqueued before the old one goes (or they would recreate it).
        await enqueuing;
        await settle(client.deleteIndex(uid));
      } catch (err) {
        mirror = null;
        await client.deleteIndexIfExists(uid).catch(() => undefined);
        throw err;
      }
    },

    async healthy() {
      try {
        await healthClient.health();
        return true;
      } catch {
        return false;
      }
    },
  };

  // ---- reading -----------------------------------------------------------------------------------------------------

  /** Keeps the hits PostgreSQL still lets the viewer see (the index may lag a change). */
  async function recheck<H extends { type: SearchType; id: string }>(viewer: Viewer, hits: H[], what: string): Promise<H[]> {
    const visible = await visibleRefs(db(deps.orm.em.fork()), viewer, hits, deps.clock.now());
    const kept = hits.filter((hit) => visible.has(refKey(hit)));
    if (kept.length < hits.length) {
      deps.logger.warn({ dropped: hits.filter((hit) => !visible.has(refKey(hit))).map(refKey), what }, 'Meilisearch returned hits PostgreSQL refuses; dropped (the index lags)');
    }
    return kept;
  }

  const scopeOf = (viewer: Viewer) => viewerScope(db(deps.orm.em.fork()), viewer, deps.clock.now());

  const backend: SearchBackend = {
    engine: 'meilisearch',

    async search(viewer, query): Promise<SearchResult> {
      const offset = decodeCursor(query.cursor);
      await preparedForQueries();
      const filters = [...visibilityClauses(viewer, await scopeOf(viewer)), ...queryClauses(query)];
      const typeClauses = query.types?.length ? [`type IN ${list(query.types)}`] : [];
      const { text, matchingStrategy } = textOf(query.q);
      const limit = Math.min(query.limit, MAX_TOTAL_HITS - offset);
      const { results } = await client.multiSearch<MultiSearchParams, RetrievedHit>({
        queries: [
          {
            indexUid: indexName,
            q: text,
            matchingStrategy,
            filter: all([...filters, ...typeClauses]),
            sort: SORTS[effectiveSort(query)],
            offset,
            limit,
            facets: ['level', 'tags', 'priceBucket'],
            attributesToRetrieve: [...RETRIEVED],
            attributesToHighlight: ['body'],
            attributesToCrop: ['body'],
            cropLength: SNIPPET_WORDS,
            cropMarker: '…',
            highlightPreTag: SNIPPET_START,
            highlightPostTag: SNIPPET_STOP,
          },
          // The type facet counts what the other kinds would give, so it ignores `types`.
          { indexUid: indexName, q: text, matchingStrategy, filter: all(filters), limit: 0, facets: ['type'] },
        ],
      });
      const [page, byType] = results;
      if (!page || !byType) throw new Error('Meilisearch answered a multi-search with fewer results than queries');
      const kept = await recheck(viewer, page.hits, 'search');
      const estimated = page.estimatedTotalHits ?? page.hits.length;
      const next = offset + page.hits.length;
      const hits: SearchHit[] = kept.map((hit) => {
        const marked = hit._formatted?.body;
        return {
          type: hit.type,
          id: hit.id,
          title: hit.title,
          snippet: text && marked?.includes(SNIPPET_START) ? highlightedSnippet(marked) : plainSnippet(hit.body),
          url: documentUrl(hit),
          communityId: hit.communityId,
          level: hit.level,
          tags: hit.tags,
          price: hit.priceMinor === null ? null : { amountMinor: hit.priceMinor, currency: hit.currency },
          publishedAt: new Date(hit.publishedAt).toISOString(),
        };
      });
      return {
        hits,
        facets: {
          type: counts(byType.facetDistribution?.type),
          level: counts(page.facetDistribution?.level),
          tag: counts(page.facetDistribution?.tags, 20),
          price: counts(page.facetDistribution?.priceBucket),
        },
        total: Math.max(0, estimated - (page.hits.length - kept.length)),
        cursor: page.hits.length === limit && next < Math.min(estimated, MAX_TOTAL_HITS) ? encodeCursor(next) : null,
        engine: 'meilisearch',
      };
    },

    async suggest(viewer, query: SuggestQuery): Promise<Suggestion[]> {
      await preparedForQueries();
      const filter = all(visibilityClauses(viewer, await scopeOf(viewer)));
      // A few more than asked, so that the re-check rarely leaves the list short.
      const page = await live.search<Pick<MeiliDocument, 'type' | 'id' | 'title' | 'communityId'>>(query.q, {
        filter,
        attributesToSearchOn: ['title'],
        attributesToRetrieve: ['type', 'id', 'title', 'communityId'],
        matchingStrategy: 'all',
        limit: query.limit + 4,
      });
      const kept = await recheck(viewer, page.hits, 'suggest');
      return kept.slice(0, query.limit).map((hit) => ({ type: hit.type, id: hit.id, title: hit.title, url: documentUrl(hit) }));
    },
  };

  return { backend, index };
}
