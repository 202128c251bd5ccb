import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * A loopback stand-in for the part of Meilisearch's REST API that domain/search/meili.ts reaches through the official
 * client: indexes, settings, documents, tasks (processed in order, a few ms after they are enqueued, so waiting is
 * exercised), swaps, search and multi-search, health. Documents live in memory. Search is deliberately small: folded
 * (case and accents) words, a prefix on the last word, one typo for words of 5+ letters, "phrases" and -exclusions,
 * the filter subset the adapter writes, facets, sort, offset/limit and `_formatted` (highlight, crop). It records
 * every request and can be told to fail: answer 500, drop the connection, or never answer.
 */

type Doc = Record<string, any>;
export interface RecordedRequest {
  method: string;
  /** Without the query string, e.g. /indexes/edulure/documents */
  path: string;
  query: Record<string, string>;
  body: any;
  authorization: string | null;
}
export type FailureMode = 'error' | 'close' | 'hang';
export interface FakeIndex {
  uid: string;
  primaryKey: string | null;
  docs: Map<string, Doc>;
  settings: Record<string, any>;
  createdAt: string;
}

const DEFAULT_SETTINGS = {
  searchableAttributes: ['*'],
  filterableAttributes: [],
  sortableAttributes: [],
  typoTolerance: { enabled: true, minWordSizeForTypos: { oneTypo: 5, twoTypos: 9 } },
  faceting: { maxValuesPerFacet: 100 },
  pagination: { maxTotalHits: 1000 },
};

class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
  get body() {
    return { message: this.message, code: this.code, type: 'invalid_request', link: `https://docs.meilisearch.com/errors#${this.code}` };
  }
}

export const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
const words = (s: string) => fold(s).match(/[\p{L}\p{N}]+/gu) ?? [];

function within1(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return a.slice(i + 1) === b.slice(i + 1) || a.slice(i) === b.slice(i + 1) || a.slice(i + 1) === b.slice(i);
}

// ---- filters: the subset the adapter writes -------------------------------------------------------------------

type Pred = (doc: Doc) => boolean;
const TOKEN = /\s*(\(|\)|\[|\]|,|!=|<=|>=|=|<|>|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s()[\],=<>!]+)/g;

export function parseFilter(filter: string, attributes: Set<string> = new Set()): Pred {
  const tokens = [...filter.matchAll(TOKEN)].map((m) => m[1]!);
  if (filter.replace(TOKEN, '').trim()) throw new ApiError(400, 'invalid_search_filter', `Cannot parse filter: ${filter}`);
  let at = 0;
  const peek = (kw?: string) => (kw ? tokens[at]?.toUpperCase() === kw : tokens[at]);
  const take = (kw?: string): string => {
    const t = tokens[at++];
    if (t === undefined || (kw && t.toUpperCase() !== kw)) throw new ApiError(400, 'invalid_search_filter', `Expected ${kw ?? 'more'} at token ${at - 1} in: ${filter}`);
    return t;
  };
  const value = (): string => {
    const t = take();
    return /^["']/.test(t) ? t.slice(1, -1).replace(/\\(.)/g, '$1') : t;
  };
  const eq = (v: unknown, x: string) => (Array.isArray(v) ? v : [v]).some((e) => e !== null && e !== undefined && fold(String(e)) === fold(x));
  const cmp = (v: unknown, op: string, x: string) => {
    if (typeof v !== 'number') return false;
    const n = Number(x);
    return op === '<' ? v < n : op === '<=' ? v <= n : op === '>' ? v > n : v >= n;
  };
  const or = (): Pred => {
    const parts = [and()];
    while (peek('OR')) {
      take();
      parts.push(and());
    }
    return (d) => parts.some((p) => p(d));
  };
  const and = (): Pred => {
    const parts = [not()];
    while (peek('AND')) {
      take();
      parts.push(not());
    }
    return (d) => parts.every((p) => p(d));
  };
  const not = (): Pred => {
    if (peek('NOT')) {
      take();
      const inner = not();
      return (d) => !inner(d);
    }
    if (peek() === '(') {
      take();
      const inner = or();
      take(')');
      return inner;
    }
    const attr = take();
    attributes.add(attr);
    const op = take().toUpperCase();
    const list = () => {
      take('[');
      const values: string[] = [];
      while (!peek(']')) {
        values.push(value());
        if (peek(',')) take();
      }
      take(']');
      return values;
    };
    if (op === '=' || op === '!=') {
      const x = value();
      return op === '=' ? (d) => eq(d[attr], x) : (d) => !eq(d[attr], x);
    }
    if (['<', '<=', '>', '>='].includes(op)) {
      const x = value();
      return (d) => cmp(d[attr], op, x);
    }
    if (op === 'IN') {
      const values = list();
      return (d) => values.some((x) => eq(d[attr], x));
    }
    if (op === 'NOT' && peek('IN')) {
      take();
      const values = list();
      return (d) => !values.some((x) => eq(d[attr], x));
    }
    if (op === 'IS') {
      const negated = peek('NOT') ? (take(), true) : false;
      take('NULL');
      return (d) => (d[attr] === null) !== negated;
    }
    throw new ApiError(400, 'invalid_search_filter', `Unsupported operator ${op} in: ${filter}`);
  };
  const pred = or();
  if (at < tokens.length) throw new ApiError(400, 'invalid_search_filter', `Unexpected ${tokens[at]} in: ${filter}`);
  return pred;
}

// ---- search ---------------------------------------------------------------------------------------------------

function search(index: FakeIndex, params: Record<string, any>) {
  const { settings } = index;
  const q = String(params.q ?? '');
  const phrases: string[][] = [];
  const excluded: string[][] = [];
  const rest = q.replace(/(-?)"([^"]*)"/g, (_, neg: string, p: string) => {
    (neg ? excluded : phrases).push(words(p));
    return ' ';
  });
  const terms: string[] = [];
  for (const raw of rest.split(/\s+/).filter(Boolean)) {
    if (raw.startsWith('-')) excluded.push(words(raw.slice(1)));
    else terms.push(...words(raw));
  }
  const prefixLast = terms.length > 0 && !/[\s"]$/.test(q);
  const typos = settings.typoTolerance?.enabled !== false;
  const oneTypo = settings.typoTolerance?.minWordSizeForTypos?.oneTypo ?? 5;
  const matchTerm = (term: string, token: string, last: boolean): number | null =>
    token === term || (last && prefixLast && token.startsWith(term)) ? 0 : typos && term.length >= oneTypo && within1(term, token) ? 1 : null;
  const matchesAny = (token: string) => terms.some((t, i) => matchTerm(t, token, i === terms.length - 1) !== null) || phrases.some((p) => p.includes(token));

  const searchable: string[] = (params.attributesToSearchOn ?? settings.searchableAttributes).filter(
    (a: string) => a === '*' || settings.searchableAttributes.includes('*') || settings.searchableAttributes.includes(a),
  );
  const textOf = (doc: Doc) =>
    (searchable.includes('*') ? Object.keys(doc) : searchable)
      .filter((a) => typeof doc[a] === 'string' || Array.isArray(doc[a]))
      .map((a) => words([doc[a]].flat().join(' ')));
  const contains = (tokens: string[], seq: string[]) => tokens.some((_, i) => seq.every((w, j) => tokens[i + j] === w));

  const filterable = new Set<string>(settings.filterableAttributes);
  const used = new Set<string>();
  const filter = params.filter ? parseFilter([params.filter].flat().map((f) => `(${[f].flat().join(' OR ')})`).join(' AND '), used) : () => true;
  for (const a of used) if (!filterable.has(a)) throw new ApiError(400, 'invalid_search_filter', `Attribute \`${a}\` is not filterable.`);
  const sort: [string, number][] = (params.sort ?? []).map((s: string) => {
    const [attr, dir] = s.split(':');
    if (!settings.sortableAttributes.includes(attr)) throw new ApiError(400, 'invalid_search_sort', `Attribute \`${attr}\` is not sortable.`);
    return [attr, dir === 'desc' ? -1 : 1];
  });
  for (const f of params.facets ?? []) if (!filterable.has(f)) throw new ApiError(400, 'invalid_search_facets', `Attribute \`${f}\` is not filterable.`);

  const strategy = params.matchingStrategy ?? 'last';
  const scored: { doc: Doc; score: number[] }[] = [];
  for (const doc of index.docs.values()) {
    if (!filter(doc)) continue;
    const fields = textOf(doc);
    if (excluded.some((seq) => fields.some((tokens) => contains(tokens, seq)))) continue;
    if (!phrases.every((seq) => fields.some((tokens) => contains(tokens, seq)))) continue;
    let matched = 0;
    let typoCount = 0;
    let rank = 0;
    for (const [i, term] of terms.entries()) {
      // The best match of a term: fewest typos, then the most important attribute.
      let best: [typo: number, attr: number] | null = null;
      for (const [attr, tokens] of fields.entries()) {
        for (const token of tokens) {
          const typo = matchTerm(term, token, i === terms.length - 1);
          if (typo !== null && (!best || typo < best[0] || (typo === best[0] && attr < best[1]))) best = [typo, attr];
        }
      }
      if (!best) continue;
      rank = matched ? Math.min(rank, best[1]) : best[1];
      matched++;
      typoCount += best[0];
    }
    if (terms.length && (strategy === 'all' ? matched < terms.length : matched === 0)) continue;
    scored.push({ doc, score: [-matched, typoCount, rank] });
  }
  const order = (a: unknown, b: unknown) => (a === b ? 0 : a == null ? 1 : b == null ? -1 : (a as number) < (b as number) ? -1 : 1);
  scored.sort((a, b) => {
    for (let i = 0; i < 3; i++) if (a.score[i] !== b.score[i]) return a.score[i]! - b.score[i]!;
    for (const [attr, dir] of sort) {
      const c = order(a.doc[attr], b.doc[attr]);
      if (c) return a.doc[attr] == null || b.doc[attr] == null ? c : c * dir;
    }
    return 0;
  });

  const facetDistribution: Record<string, Record<string, number>> = {};
  for (const f of params.facets ?? []) {
    const counts: Record<string, number> = (facetDistribution[f] = {});
    for (const { doc } of scored) for (const v of [doc[f]].flat()) if (v !== null && v !== undefined) counts[String(v)] = (counts[String(v)] ?? 0) + 1;
  }

  const offset = params.offset ?? 0;
  const limit = params.limit ?? 20;
  const pre = params.highlightPreTag ?? '<em>';
  const post = params.highlightPostTag ?? '</em>';
  const highlight = new Set<string>(params.attributesToHighlight ?? []);
  const crop = new Map<string, number>((params.attributesToCrop ?? []).map((a: string) => a.split(':')).map(([a, n]: string[]) => [a, Number(n ?? params.cropLength ?? 10)]));
  const format = (attr: string, text: string) => {
    const parts = text.split(/([\p{L}\p{N}]+)/u);
    const mark = (i: number) => (i % 2 === 1 && (highlight.has(attr) || highlight.has('*')) && matchesAny(fold(parts[i]!)) ? `${pre}${parts[i]}${post}` : parts[i]);
    const length = crop.get(attr) ?? crop.get('*');
    const wordAt = parts.map((_, i) => i).filter((i) => i % 2 === 1);
    if (length === undefined || !wordAt.length) return parts.map((_, i) => mark(i)).join('');
    const first = Math.max(0, wordAt.findIndex((i) => matchesAny(fold(parts[i]!))));
    const start = Math.max(0, Math.min(first - Math.floor(length / 3), wordAt.length - length));
    const end = Math.min(wordAt.length, start + length);
    const marker = params.cropMarker ?? '…';
    const [from, to] = [wordAt[start]!, wordAt[end - 1]!];
    const body = parts.slice(from, to + 1).map((_, i) => mark(from + i)).join('');
    return `${start > 0 ? marker : ''}${body}${end < wordAt.length ? marker : ''}`;
  };
  const formatting = highlight.size > 0 || crop.size > 0;
  const hits = scored.slice(offset, offset + limit).map(({ doc }) => {
    const shown: Doc = params.attributesToRetrieve ? Object.fromEntries(params.attributesToRetrieve.map((a: string) => [a, doc[a]])) : { ...doc };
    if (formatting) shown._formatted = Object.fromEntries(Object.entries(shown).map(([a, v]) => [a, typeof v === 'string' ? format(a, v) : v]));
    return shown;
  });
  const total = Math.min(scored.length, settings.pagination?.maxTotalHits ?? 1000);
  return { hits, query: q, processingTimeMs: 0, limit, offset, estimatedTotalHits: total, ...(params.facets ? { facetDistribution } : {}) };
}

// ---- the server -----------------------------------------------------------------------------------------------

export async function startMeiliFake(options: { apiKey?: string; taskDelayMs?: number } = {}) {
  const requests: RecordedRequest[] = [];
  const indexes = new Map<string, FakeIndex>();
  const tasks = new Map<number, Record<string, any>>();
  const queue: { task: Record<string, any>; run: () => object | void }[] = [];
  let timer: NodeJS.Timeout | null = null;
  let nextTask = 0;
  let failure: { mode: FailureMode; remaining: number } | null = null;
  const now = () => new Date().toISOString();

  const newIndex = (uid: string, primaryKey: string | null = null): FakeIndex => ({
    uid,
    primaryKey,
    docs: new Map(),
    settings: structuredClone(DEFAULT_SETTINGS),
    createdAt: now(),
  });
  const existing = (uid: string) => {
    const index = indexes.get(uid);
    if (!index) throw new ApiError(404, 'index_not_found', `Index \`${uid}\` not found.`);
    return index;
  };
  const ensure = (uid: string) => indexes.get(uid) ?? indexes.set(uid, newIndex(uid)).get(uid)!;

  function processNext() {
    timer = null;
    const job = queue.shift();
    if (!job) return;
    Object.assign(job.task, { status: 'processing', startedAt: now() });
    try {
      job.task.details = job.run() ?? {};
      job.task.status = 'succeeded';
    } catch (err) {
      job.task.status = 'failed';
      job.task.error = err instanceof ApiError ? err.body : { message: String(err), code: 'internal', type: 'internal', link: '' };
    }
    job.task.finishedAt = now();
    schedule();
  }
  function schedule() {
    if (!timer && queue.length) timer = setTimeout(processNext, options.taskDelayMs ?? 5);
  }
  function enqueue(indexUid: string | null, type: string, run: () => object | void) {
    const task = { uid: nextTask++, batchUid: null, indexUid, status: 'enqueued', type, canceledBy: null, details: null, error: null, duration: null, enqueuedAt: now(), startedAt: null, finishedAt: null };
    tasks.set(task.uid, task);
    queue.push({ task, run });
    schedule();
    return [202, { taskUid: task.uid, indexUid, status: 'enqueued', type, enqueuedAt: task.enqueuedAt }] as const;
  }

  function addDocuments(index: FakeIndex, docs: Doc[], primaryKey: string | undefined, merge: boolean) {
    index.primaryKey ??= primaryKey ?? Object.keys(docs[0] ?? {}).find((k) => /id$/i.test(k)) ?? null;
    const pk = index.primaryKey;
    if (!pk) throw new ApiError(400, 'index_primary_key_no_candidate_found', 'No primary key candidate.');
    for (const doc of docs) {
      const id = doc[pk];
      if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,511}$/.test(id)) throw new ApiError(400, 'invalid_document_id', `Document identifier \`${JSON.stringify(id)}\` is invalid.`);
    }
    for (const doc of docs) index.docs.set(doc[pk], merge ? { ...index.docs.get(doc[pk]), ...doc } : doc);
    return { receivedDocuments: docs.length, indexedDocuments: docs.length };
  }

  function route(method: string, path: string, query: Record<string, string>, body: any): readonly [number, unknown] {
    const [head = '', uid = '', ...rest] = path.split('/').filter(Boolean).map(decodeURIComponent);
    const key = [`${method} ${head}`, ...(uid ? [':uid'] : []), ...rest].join('/');
    switch (key) {
      case 'GET health':
        return [200, { status: 'available' }];
      case 'GET tasks/:uid': {
        const task = tasks.get(Number(uid));
        if (!task) throw new ApiError(404, 'task_not_found', `Task \`${uid}\` not found.`);
        return [200, task];
      }
      case 'POST indexes':
        return enqueue(body.uid, 'indexCreation', () => {
          if (indexes.has(body.uid)) throw new ApiError(409, 'index_already_exists', `Index \`${body.uid}\` already exists.`);
          indexes.set(body.uid, newIndex(body.uid, body.primaryKey ?? null));
          return { primaryKey: body.primaryKey ?? null };
        });
      case 'GET indexes/:uid': {
        const index = existing(uid);
        return [200, { uid, primaryKey: index.primaryKey, createdAt: index.createdAt, updatedAt: index.createdAt }];
      }
      case 'DELETE indexes/:uid':
        return enqueue(uid, 'indexDeletion', () => {
          const { docs } = existing(uid);
          indexes.delete(uid);
          return { deletedDocuments: docs.size };
        });
      case 'GET indexes/:uid/settings':
        return [200, existing(uid).settings];
      case 'PATCH indexes/:uid/settings':
        return enqueue(uid, 'settingsUpdate', () => {
          const index = ensure(uid);
          for (const [k, v] of Object.entries(body)) index.settings[k] = v === null ? structuredClone((DEFAULT_SETTINGS as Record<string, unknown>)[k]) : v;
          return body;
        });
      case 'POST indexes/:uid/documents':
      case 'PUT indexes/:uid/documents':
        return enqueue(uid, 'documentAdditionOrUpdate', () => addDocuments(ensure(uid), body, query.primaryKey, method === 'PUT'));
      case 'POST indexes/:uid/documents/delete-batch':
        return enqueue(uid, 'documentDeletion', () => {
          const index = existing(uid);
          return { providedIds: body.length, deletedDocuments: body.filter((id: string) => index.docs.delete(String(id))).length };
        });
      case 'POST swap-indexes':
        return enqueue(null, 'indexSwap', () => {
          for (const { indexes: [a, b], rename } of body as { indexes: [string, string]; rename?: boolean }[]) {
            const first = existing(a);
            if (rename) {
              if (indexes.has(b)) throw new ApiError(409, 'index_already_exists', `Index \`${b}\` already exists.`);
              indexes.delete(a);
              indexes.set(b, { ...first, uid: b });
            } else {
              const second = existing(b);
              indexes.set(a, { ...second, uid: a });
              indexes.set(b, { ...first, uid: b });
            }
          }
          return { swaps: body };
        });
      case 'POST indexes/:uid/search':
        return [200, search(existing(uid), body)];
      case 'POST multi-search':
        return [200, { results: body.queries.map((q: Record<string, any>) => ({ indexUid: q.indexUid, ...search(existing(q.indexUid), q) })) }];
      default:
        throw new ApiError(404, 'not_found', `No route for ${method} ${path} in the fake.`);
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any = raw;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        // recorded as text
      }
      const path = url.pathname;
      const authorization = req.headers.authorization ?? null;
      requests.push({ method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), body, authorization });
      if (failure && failure.remaining > 0) {
        failure.remaining--;
        if (failure.mode === 'close') return void req.socket.destroy();
        if (failure.mode === 'hang') return;
        return send(res, 500, new ApiError(500, 'internal', 'The fake was told to fail.').body);
      }
      try {
        if (options.apiKey && authorization !== `Bearer ${options.apiKey}` && path !== '/health') {
          throw authorization ? new ApiError(403, 'invalid_api_key', 'The provided API key is invalid.') : new ApiError(401, 'missing_authorization_header', 'The Authorization header is missing.');
        }
        const [status, answer] = route(req.method ?? 'GET', path, Object.fromEntries(url.searchParams), body);
        send(res, status, answer);
      } catch (err) {
        const e = err instanceof ApiError ? err : new ApiError(500, 'internal', String(err));
        send(res, e.status, e.body);
      }
    });
  });
  const send = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    indexes,
    /** Requests to paths matching `pattern` (`METHOD /path`, e.g. /^POST \/multi-search$/). */
    requestsTo: (pattern: RegExp) => requests.filter((r) => pattern.test(`${r.method} ${r.path}`)),
    /** Answer the next `count` requests (all of them by default) with a 500, a dropped connection, or nothing. */
    fail(mode: FailureMode, count = Infinity) {
      failure = { mode, remaining: count };
    },
    recover() {
      failure = null;
    },
    async close() {
      if (timer) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
export type MeiliFake = Awaited<ReturnType<typeof startMeiliFake>>;
