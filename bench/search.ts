/**
 * `npm run bench:search` (also the second part of `npm run bench`): explorer search latency, measured client-side over
 * HTTP against one node (embedded PostgreSQL 18, default settings, as `npm run bench` runs it), with `GET /api/v1/me`
 * timed in the same run as the baseline.
 *
 * 1. Demo-sized: the demo seed alone, indexed by the product's reindex; `/search/suggest` (the issue's target:
 *    ≤ 30 ms p95 on demo-sized data) and `/search`, signed in as the demo learner and signed out.
 * 2. The catalogue: BENCH_DOCUMENTS (100,000) searchable items generated straight in PostgreSQL with set-based SQL —
 *    communities (a fifth private), people, published courses and ebooks titled from a vocabulary of real words (so a
 *    common word hits thousands of documents), classes and, the bulk, posts — plus memberships of the viewer in three
 *    quarters of the private communities and a quarter of the public ones, and a few blocks; then the product's own
 *    reindex (`deps.search.indexer.reindex()`), timed. `/search` gets a mix of common words, rare words, typos,
 *    two-word phrases, filters and facets, and second pages through cursors; `/search/suggest` prefixes of one to four
 *    characters; each signed in and signed out.
 *
 * Closed loop at BENCH_CONCURRENCY (4) keep-alive clients, BENCH_SECONDS (8) per scenario after a 2 s warm-up, the
 * load generator in the node's process (as `npm run bench`). Reports p50/p95/p99 and throughput overall and per kind
 * of query, and each p50 and p95 over the phase's GET /me. A scenario goes through its mix at least BENCH_MIN_PASSES
 * (2) times, however slow. The slowest kind of each scenario, when its p95 exceeds BENCH_EXPLAIN_MS (500), gets the
 * EXPLAIN (ANALYZE, BUFFERS) of its statement, captured from the node's own connection. Prints tables and writes
 * bench/results/search-<date>.json (search-<date>-2.json and on for later runs that day).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { db, type Db } from '../orm/db.ts';
import { migrateWithLock, openOrm, startEmbeddedPostgres } from '../orm/database.ts';
import { DEMO_ACCOUNTS, seedDemoData } from '../orm/seeders/demoData.ts';
import { parseEnv } from '../server/env.ts';
import { createNode } from '../server/node.ts';
import { freePort } from '../test/ports.ts';
import { writeResultFile } from './setup.ts';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_MS = 2000;
const DOCUMENTS = Number(process.env.BENCH_DOCUMENTS ?? 100_000);
const EXPLAIN_MS = Number(process.env.BENCH_EXPLAIN_MS ?? 500);
/** Each scenario goes through its mix at least this many times, however slow (so every kind has a few samples). */
const MIN_PASSES = Number(process.env.BENCH_MIN_PASSES ?? 2);

// ---------------------------------------------------------------------------------------------------------------
// Statement capture (for EXPLAIN): every query the node's pg clients send passes here; off unless a probe is armed.

type Captured = { text: string; values: unknown[] };
let probe: ((statement: Captured) => void) | null = null;
/** The node's pool uses the pg that MikroORM's PostgreSQL driver resolves (its own copy when it has one). */
const ormPg = createRequire(path.join(import.meta.dirname, '../node_modules/@mikro-orm/postgresql/package.json'))('pg') as typeof pg;
for (const Client of new Set([pg.Client, ormPg.Client])) {
  const clientQuery = Client.prototype.query as (...args: unknown[]) => unknown;
  Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (probe) {
      const [config, values] = args as [string | { text?: string; values?: unknown[] }, unknown];
      const text = typeof config === 'string' ? config : config?.text;
      const vals = Array.isArray(values) ? values : typeof config === 'object' ? (config?.values ?? []) : [];
      if (text) probe({ text, values: vals });
    }
    return clientQuery.apply(this, args);
  } as typeof Client.prototype.query;
}

// ---------------------------------------------------------------------------------------------------------------
// Load.

interface Request {
  kind: string;
  path: string;
}

interface Latencies {
  requests: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface ScenarioResult extends Latencies {
  scenario: string;
  seconds: number;
  perSecond: number;
  byKind: Record<string, Latencies>;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarise(latencies: number[], errors: number): Latencies {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    requests: sorted.length,
    errors,
    p50Ms: +percentile(sorted, 50).toFixed(2),
    p95Ms: +percentile(sorted, 95).toFixed(2),
    p99Ms: +percentile(sorted, 99).toFixed(2),
    maxMs: +(sorted[sorted.length - 1] ?? 0).toFixed(2),
  };
}

function get(agent: http.Agent, base: URL, pathname: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: base.hostname, port: base.port, path: pathname, method: 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

/**
 * Closed loop: `CONCURRENCY` keep-alive clients, each sending the next request of the mix (in turn, from its own
 * offset) when the last returns; latency from send to the end of the body.
 */
async function runScenario(
  scenario: string,
  base: string,
  mix: readonly Request[],
  headers: Record<string, string>,
  durationMs: number,
  minRequests: number,
): Promise<ScenarioResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const url = new URL(base);
  const all: number[] = [];
  const byKind = new Map<string, { latencies: number[]; errors: number }>();
  let errors = 0;
  let sent = 0;
  const deadline = Date.now() + durationMs;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, client) => {
      let i = Math.floor((client * mix.length) / CONCURRENCY);
      // Until the deadline, and at least `minRequests` (a slow mix still has every kind measured).
      while (Date.now() < deadline || sent < minRequests) {
        sent++;
        const request = mix[i++ % mix.length]!;
        const started = performance.now();
        const res = await get(agent, url, request.path, headers);
        const ms = performance.now() - started;
        const kind = byKind.get(request.kind) ?? { latencies: [], errors: 0 };
        byKind.set(request.kind, kind);
        if (res.status === 200) {
          all.push(ms);
          kind.latencies.push(ms);
        } else {
          errors++;
          kind.errors++;
          if (errors <= 3) console.warn(`${scenario}: ${res.status} for ${request.path}: ${res.body.slice(0, 200)}`);
        }
      }
    }),
  );
  const seconds = (performance.now() - startedAt) / 1000;
  agent.destroy();
  return {
    scenario,
    seconds: +seconds.toFixed(2),
    perSecond: Math.round(all.length / seconds),
    ...summarise(all, errors),
    byKind: Object.fromEntries([...byKind].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, summarise(v.latencies, v.errors)])),
  };
}

async function measure(scenario: string, base: string, mix: readonly Request[], headers: Record<string, string>): Promise<ScenarioResult> {
  await runScenario(scenario, base, mix, headers, WARMUP_MS, 0);
  const result = await runScenario(scenario, base, mix, headers, SECONDS * 1000, MIN_PASSES * mix.length);
  console.log(
    `${scenario.padEnd(34)} ${String(result.perSecond).padStart(6)} req/s   p50 ${result.p50Ms} ms   p95 ${result.p95Ms} ms   p99 ${result.p99Ms} ms   errors ${result.errors}`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// The mixes.

const searchPath = (params: Record<string, string>) => `/api/v1/search?${new URLSearchParams(params)}`;
const suggestPath = (q: string) => `/api/v1/search/suggest?${new URLSearchParams({ q })}`;

/** Queries of /search by kind; `page2` entries are filled in with the cursor of their first page. */
const SEARCHES: { kind: string; params: Record<string, string>; page2?: boolean }[] = [
  { kind: 'common', params: { q: 'javascript' } },
  { kind: 'common', params: { q: 'python' } },
  { kind: 'common', params: { q: 'design' } },
  { kind: 'common', params: { q: 'photography' } },
  { kind: 'rare', params: { q: 'sourdough' } },
  { kind: 'rare', params: { q: 'quaternion' } },
  { kind: 'rare', params: { q: 'beekeeping' } },
  { kind: 'typo', params: { q: 'javscript' } },
  { kind: 'typo', params: { q: 'pyhton' } },
  { kind: 'typo', params: { q: 'photgraphy' } },
  { kind: 'phrase', params: { q: '"machine learning"' } },
  { kind: 'phrase', params: { q: 'web development' } },
  { kind: 'phrase', params: { q: 'python data' } },
  { kind: 'filtered', params: { q: 'javascript', types: 'course', level: 'beginner' } },
  { kind: 'filtered', params: { q: 'python', types: 'course', free: 'true' } },
  { kind: 'filtered', params: { q: 'design', tag: 'creative' } },
  { kind: 'filtered', params: { q: 'guitar', types: 'course,ebook', sort: 'recent' } },
  { kind: 'filtered', params: { q: 'data', types: 'post', sort: 'recent' } },
  { kind: 'browse', params: { types: 'course', priceMax: '20' } },
  { kind: 'browse', params: { types: 'course', level: 'advanced', sort: 'popular' } },
  { kind: 'page2', params: { q: 'javascript' }, page2: true },
  { kind: 'page2', params: { q: 'python', types: 'course' }, page2: true },
  { kind: 'page2', params: { q: 'design', sort: 'recent' }, page2: true },
];

/** The demo's own words (the catalogue's vocabulary finds nothing there), kind by kind. */
const DEMO_SEARCHES: typeof SEARCHES = [
  { kind: 'common', params: { q: 'learning' } },
  { kind: 'common', params: { q: 'edulure' } },
  { kind: 'rare', params: { q: 'calendar' } },
  { kind: 'typo', params: { q: 'lerning' } },
  { kind: 'typo', params: { q: 'edulur' } },
  { kind: 'phrase', params: { q: '"deep work"' } },
  { kind: 'phrase', params: { q: 'live class' } },
  { kind: 'filtered', params: { q: 'learning', types: 'course', level: 'beginner' } },
  { kind: 'filtered', params: { q: 'guide', types: 'ebook,course', sort: 'recent' } },
  { kind: 'browse', params: { types: 'course,ebook' } },
  { kind: 'browse', params: { sort: 'recent' } },
];

/** Prefixes of one to four characters of words that titles start with, and of the demo's own words. */
const SUGGEST_WORDS = ['java', 'pyth', 'desi', 'mach', 'phot', 'guit', 'sour', 'web ', 'edul', 'lear', 'deep', 'welc'];
const SUGGESTS: Request[] = SUGGEST_WORDS.flatMap((word) =>
  [1, 2, 3, 4].map((n) => word.slice(0, n).trim()).filter((p, i, all) => p && all.indexOf(p) === i).map((p) => ({ kind: `suggest-${p.length}`, path: suggestPath(p) })),
);

/** The search mix with second pages resolved (their cursor taken from the first page, as the viewer would). */
async function searchMix(base: string, headers: Record<string, string>, searches = SEARCHES): Promise<{ mix: Request[]; totals: Record<string, number> }> {
  const agent = new http.Agent({ keepAlive: true });
  const url = new URL(base);
  const mix: Request[] = [];
  const totals: Record<string, number> = {};
  for (const s of searches) {
    const first = await get(agent, url, searchPath(s.params), headers);
    if (first.status !== 200) throw new Error(`${searchPath(s.params)} answered ${first.status}: ${first.body.slice(0, 200)}`);
    const result = JSON.parse(first.body) as { total: number; cursor: string | null };
    totals[`${s.kind} ${new URLSearchParams(s.params)}`] = result.total;
    if (!s.page2) mix.push({ kind: s.kind, path: searchPath(s.params) });
    else if (result.cursor) mix.push({ kind: s.kind, path: searchPath({ ...s.params, cursor: result.cursor }) });
  }
  agent.destroy();
  return { mix, totals };
}

// ---------------------------------------------------------------------------------------------------------------
// The catalogue.

const TOPICS = [
  'javascript', 'python', 'design', 'photography', 'marketing', 'data science', 'machine learning', 'web development', 'typescript',
  'react', 'guitar', 'cooking', 'spanish', 'finance', 'writing', 'yoga', 'drawing', 'piano', 'chemistry', 'history', 'statistics',
  'leadership', 'excel', 'sql', 'rust', 'kotlin', 'swift', 'linux', 'docker', 'kubernetes', 'nutrition', 'meditation', 'french',
  'german', 'japanese', 'calculus', 'physics', 'biology', 'economics', 'accounting', 'branding', 'illustration', 'animation',
  'filmmaking', 'podcasting', 'gardening', 'woodworking', 'knitting', 'baking', 'chess', 'astronomy', 'philosophy', 'psychology',
  'negotiation', 'public speaking', 'blender', 'figma', 'unity', 'arduino', 'robotics', 'ceramics', 'watercolor',
];
const RARE = ['sourdough', 'quaternion', 'beekeeping', 'calligraphy', 'origami', 'taxidermy', 'glassblowing', 'cryptography'];
const CATEGORIES = ['programming', 'creative', 'business', 'languages', 'science', 'lifestyle', 'music'];
const COURSE_OPENERS = ['Practical', 'Complete', 'Modern', 'Hands-on', 'Essential', 'Advanced', 'Introduction to', 'Mastering', 'Applied', 'Fundamentals of', 'Creative', 'Everyday'];
const COURSE_CLOSERS = ['for beginners', 'masterclass', 'bootcamp', 'workshop', 'in 30 days', 'from scratch', 'projects', 'crash course', 'deep dive', 'essentials', 'for professionals', 'step by step'];
const EBOOK_NOUNS = ['Handbook', 'Field Guide', 'Cookbook', 'Companion', 'Notebook', 'Primer', 'Workbook', 'Playbook'];
const COMMUNITY_NOUNS = ['Guild', 'Circle', 'Club', 'Lab', 'Academy', 'Collective', 'Society', 'Studio'];
const CLASS_NOUNS = ['Q&A', 'office hours', 'workshop', 'study session', 'live coding', 'critique night'];
const FIRST = ['Ana', 'Ben', 'Chloe', 'Diego', 'Elif', 'Farah', 'Goran', 'Hana', 'Ivan', 'Jonas', 'Keiko', 'Lena', 'Mateo', 'Nia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sami', 'Tariq', 'Uma', 'Viktor', 'Wen', 'Yara', 'Zoe'];
const LAST = ['Almeida', 'Brown', 'Chen', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Haddad', 'Ivanova', 'Jensen', 'Kowalski', 'López', 'Müller', 'Nakamura', 'Okafor', 'Petrov', 'Rossi', 'Silva', 'Tanaka', 'Usman', 'Virtanen', 'Weber', 'Yilmaz', 'Zhang'];
const ROLES = ['Teacher of', 'Student of', 'Engineer who loves', 'Writer about', 'Coach for', 'Researcher in', 'Hobbyist into', 'Mentor for'];
const SENTENCES = [
  'I just finished a %s project and would love feedback on the %s part.',
  'Does anyone have a good resource for learning %s? I keep getting stuck with %s.',
  'Weekly thread: share what you learned about %s this week, and one thing about %s.',
  'Our study group meets on Thursday to practise %s; bring your %s questions.',
  'Tip: when working on %s, keep notes and compare them with your %s experiments.',
  'Looking for a mentor in %s. Happy to help with %s in return.',
  'Here are my slides from the %s meetup, including a short section on %s.',
  'What is the best way to combine %s with %s for a portfolio?',
  'Three mistakes I made while learning %s, and how %s helped me fix them.',
  'Is it worth paying for a %s course, or are free %s tutorials enough?',
  'Reading list for %s: two books, one podcast and a long article about %s.',
  'Today I taught my first class on %s. Next month: %s for absolute beginners.',
];

/** Sizes of each kind, for `total` documents (posts take what the others leave). */
function catalogueSizes(total: number) {
  const f = total / 100_000;
  const communities = Math.max(10, Math.round(500 * f));
  const people = Math.max(50, Math.round(10_000 * f));
  const courses = Math.round(8_000 * f);
  const ebooks = Math.round(3_000 * f);
  const classes = Math.round(1_500 * f);
  return { communities, people, instructors: Math.max(10, Math.round(people / 20)), courses, ebooks, classes, posts: total - communities - people - courses - ebooks - classes };
}

/**
 * Generates the catalogue in one transaction with set-based SQL. Ids are md5 of a name and a number, so the tables
 * refer to each other without lookups; words are drawn with a skew (power of random()) so the first topics are common
 * and the last ones rare; `setseed` makes every run generate the same catalogue.
 */
async function generateCatalogue(q: Db, viewerId: string, sizes: ReturnType<typeof catalogueSizes>): Promise<void> {
  const arr = (values: readonly string[]) => sql`${values}::text[]`;
  const pick = (values: readonly string[]) => sql`(${arr(values)})[1 + floor(random() * ${values.length})::int]`;
  // Titles and headlines lean on the first topics (a course about JavaScript is far commoner than one about ceramics);
  // prose mentions any topic alike.
  const topic = sql`(${arr(TOPICS)})[1 + floor(power(random(), 1.6) * ${TOPICS.length})::int]`;
  const anyTopic = pick(TOPICS);
  const rareWord = sql`case when random() < 0.003 then ' ' || ${pick(RARE)} else '' end`;
  const sentence = sql`format(${pick(SENTENCES)}, ${anyTopic}, ${anyTopic})`;
  const prose = sql`${sentence} || ' ' || ${sentence} || ' ' || ${sentence} || ${rareWord}`;
  const id = (kind: string, n: ReturnType<typeof sql>) => sql`md5(${`bench-${kind}-`}::text || ${n})::uuid`;
  const { communities, people, instructors, courses, ebooks, classes, posts } = sizes;
  const price = sql`(array[0, 0, 0, 0, 900, 1500, 1900, 2900, 4900, 7900, 12900])[1 + floor(random() * 11)::int]`;
  const past = sql`now() - random() * interval '730 days'`;

  await sql`select setseed(0.42)`.execute(q);
  await sql`
    insert into users (id, email, password_hash, display_name, role, email_verified_at, headline, bio, created_at, updated_at)
    select ${id('user', sql`n`)}, 'bench-' || n || '@bench.test', 'not-a-password-hash',
           ${pick(FIRST)} || ' ' || ${pick(LAST)}, case when n <= ${instructors} then 'instructor' else 'user' end, now(),
           ${pick(ROLES)} || ' ' || ${topic}, ${sentence}, ${past}, now()
    from generate_series(1, ${people}) as n`.execute(q);
  await sql`
    insert into communities (id, slug, name, description, visibility, created_by_id, created_at, updated_at)
    select ${id('community', sql`n`)}, 'bench-' || n, initcap(${topic}) || ' ' || ${pick(COMMUNITY_NOUNS)} || ' ' || n, ${prose},
           case when n % 5 = 0 then 'private' else 'public' end, ${id('user', sql`1 + n % ${instructors}`)}, ${past}, now()
    from generate_series(1, ${communities}) as n`.execute(q);
  // Up to 40 members each (popularity), and the viewer in three quarters of the private communities and a quarter of
  // the public ones.
  await sql`
    insert into community_members (community_id, user_id, role)
    select ${id('community', sql`c`)}, ${id('user', sql`1 + (c * 131 + k * 7919) % ${people}`)}, case when k = 1 then 'owner' else 'member' end
    from generate_series(1, ${communities}) as c, generate_series(1, 1 + (c * 7) % 40) as k
    on conflict do nothing`.execute(q);
  await sql`
    insert into community_members (community_id, user_id, role)
    select ${id('community', sql`c`)}, ${viewerId}::uuid, 'member'
    from generate_series(1, ${communities}) as c where c % 10 = 0 or c % 4 = 1
    on conflict do nothing`.execute(q);
  // The viewer has blocked a few people: their posts and profiles drop out of the viewer's results.
  await sql`
    insert into user_blocks (blocker_id, blocked_id)
    select ${viewerId}::uuid, ${id('user', sql`n * 97`)} from generate_series(1, 5) as n where n * 97 <= ${people}
    on conflict do nothing`.execute(q);

  // Courses: 70% in a community (a fifth of those private), each with its discussion channel; a few drafts.
  await sql`
    create temp table bench_courses on commit drop as
    select ${id('course', sql`n`)} as id, ${id('course-channel', sql`n`)} as channel_id,
           case when random() < 0.7 then ${id('community', sql`1 + floor(random() * ${communities})::int`)} end as community_id,
           ${id('user', sql`1 + floor(random() * ${instructors})::int`)} as owner_id, ${topic} as topic, ${price} as price_minor,
           case when n % 25 = 0 then 'draft' else 'published' end as status, ${past} as published_at
    from generate_series(1, ${courses}) as n`.execute(q);
  await sql`
    insert into channels (id, community_id, kind, name, visibility, created_by_id)
    select channel_id, community_id, 'course', null, 'private', owner_id from bench_courses`.execute(q);
  await sql`
    insert into courses (id, community_id, owner_id, channel_id, title, summary, description, level, tags, price_minor, currency,
                         status, published_at, created_at, updated_at)
    select id, community_id, owner_id, channel_id,
           ${pick(COURSE_OPENERS)} || ' ' || initcap(topic) || ' ' || ${pick(COURSE_CLOSERS)},
           'Learn ' || topic || ' with ' || ${topic} || ' examples', ${prose},
           (array['beginner', 'intermediate', 'advanced'])[1 + floor(random() * 3)::int],
           array[replace(topic, ' ', '-'), ${pick(CATEGORIES)}], price_minor, case when price_minor > 0 then 'USD' end,
           status, case when status = 'published' then published_at end, published_at, now()
    from bench_courses`.execute(q);
  await sql`
    insert into ebooks (id, community_id, owner_id, title, author, description, price_minor, currency, status, published_at, created_at, updated_at)
    select ${id('ebook', sql`n`)},
           case when random() < 0.5 then ${id('community', sql`1 + floor(random() * ${communities})::int`)} end,
           ${id('user', sql`1 + floor(random() * ${instructors})::int`)},
           'The ' || initcap(${topic}) || ' ' || ${pick(EBOOK_NOUNS)}, ${pick(FIRST)} || ' ' || ${pick(LAST)}, ${prose},
           p.price, case when p.price > 0 then 'EUR' end, 'published', ${past}, now() - interval '800 days', now()
    from generate_series(1, ${ebooks}) as n cross join lateral (select ${price} + 0 * n as price) as p`.execute(q);
  await sql`
    create temp table bench_classes on commit drop as
    select ${id('class', sql`n`)} as id, ${id('class-channel', sql`n`)} as channel_id,
           ${id('community', sql`1 + floor(random() * ${communities})::int`)} as community_id,
           ${id('user', sql`1 + floor(random() * ${instructors})::int`)} as host_id, ${topic} as topic
    from generate_series(1, ${classes}) as n`.execute(q);
  await sql`
    insert into channels (id, community_id, kind, name, visibility, created_by_id)
    select channel_id, community_id, 'classroom', null, 'private', host_id from bench_classes`.execute(q);
  await sql`
    insert into classrooms (id, community_id, host_id, channel_id, title, description, starts_at, duration_minutes, capacity, status)
    select id, community_id, host_id, channel_id, 'Live ' || topic || ' ' || ${pick(CLASS_NOUNS)}, ${prose},
           now() + random() * interval '60 days', 60, 50, 'scheduled'
    from bench_classes`.execute(q);
  // Posts: the bulk, in every community, by anyone, over two years.
  await sql`
    insert into posts (id, community_id, author_id, kind, body, comment_count, reaction_count, created_at)
    select ${id('post', sql`n`)}, ${id('community', sql`1 + floor(random() * ${communities})::int`)},
           ${id('user', sql`1 + floor(random() * ${people})::int`)}, 'text', ${prose},
           floor(power(random(), 4) * 40)::int, floor(power(random(), 3) * 120)::int, ${past}
    from generate_series(1, ${posts}) as n`.execute(q);
}

// ---------------------------------------------------------------------------------------------------------------
// EXPLAIN of a slow kind: one request of it sent alone, its search statement captured and explained.

async function explainSlow(databaseUrl: string, base: string, headers: Record<string, string>, request: Request): Promise<string> {
  const statements: Captured[] = [];
  probe = (s) => {
    if (/search_documents/.test(s.text) && !/^\s*(insert|update|delete)/i.test(s.text)) statements.push(s);
  };
  const agent = new http.Agent({ keepAlive: false });
  try {
    await get(agent, new URL(base), request.path, headers);
  } finally {
    probe = null;
    agent.destroy();
  }
  const statement = statements.sort((a, b) => b.text.length - a.text.length)[0];
  if (!statement) return '(no statement captured)';
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ 'QUERY PLAN': string }>({ text: `explain (analyze, buffers) ${statement.text}`, values: statement.values });
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------------------------

async function signIn(base: string): Promise<{ token: string; userId: string }> {
  const learner = DEMO_ACCOUNTS.find((a) => a.communityRole === 'member')!;
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: learner.email, password: learner.password }),
  });
  if (res.status !== 200) throw new Error(`login answered ${res.status}`);
  const body = (await res.json()) as { accessToken: string; user: { id: string } };
  return { token: body.accessToken, userId: body.user.id };
}

async function documentCounts(q: Db): Promise<Record<string, number>> {
  const rows = await q.selectFrom('search_documents').select(['type', sql<number>`count(*)::int`.as('n')]).groupBy('type').orderBy('type').execute();
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
}


const startedAt = Date.now();
const loadAtStart = os.loadavg();
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-bench-search-'));
await chmod(dataDir, 0o755);
const pgServer = await startEmbeddedPostgres({ dataDir, port: await freePort() });
try {
  const setup = await openOrm(pgServer.url, { poolMax: 2 });
  await migrateWithLock(setup, pgServer.url);
  await seedDemoData(setup.em.fork());
  await setup.close(true);

  const parsed = parseEnv({ NODE_ENV: 'production', LOG_LEVEL: 'silent', RATE_LIMIT_AUTH_PER_MINUTE: '1000000' });
  if (!('env' in parsed)) throw new Error('bad bench env');
  const node = await createNode({
    env: parsed.env,
    databaseUrl: pgServer.url,
    jwtKeys: [{ kid: 'bench', secret: 'bench-secret-that-is-long-enough-0123456789' }],
    publicUrl: 'http://localhost',
    allowedOrigins: [],
    logger: pino({ level: 'silent' }),
  });
  const base = `http://127.0.0.1:${await node.listen(0, '127.0.0.1')}`;
  const q = db(node.orm.em.fork());
  const scenarios: ScenarioResult[] = [];
  const explains: { scenario: string; kind: string; path: string; p95Ms: number; plan: string }[] = [];

  /** Runs the scenarios of one phase; explains the slowest kind of each when it is slower than EXPLAIN_MS at p95. */
  const phase = async (name: string, runs: { scenario: string; mix: Request[]; headers: Record<string, string> }[]) => {
    for (const run of runs) {
      const result = await measure(`${name}: ${run.scenario}`, base, run.mix, run.headers);
      scenarios.push(result);
      // The slowest kind of the scenario, when it is slower than EXPLAIN_MS at p95.
      const [kind, figures] = Object.entries(result.byKind).sort(([, x], [, y]) => y.p95Ms - x.p95Ms)[0]!;
      if (figures.p95Ms <= EXPLAIN_MS || kind === 'me') continue;
      const request = run.mix.find((r) => r.kind === kind)!;
      const plan = await explainSlow(pgServer.url, base, run.headers, request);
      explains.push({ scenario: result.scenario, kind, path: request.path, p95Ms: figures.p95Ms, plan });
      console.log(`\nEXPLAIN ANALYZE of ${kind} (${request.path}), p95 ${figures.p95Ms} ms:\n${plan}\n`);
    }
  };

  // 1. Demo-sized.
  let started = performance.now();
  const demoIndex = await node.deps.search.indexer.reindex();
  const demoReindexMs = Math.round(performance.now() - started);
  const demoCounts = await documentCounts(q);
  console.log(`demo data: ${demoIndex.documents} documents indexed in ${demoReindexMs} ms`, demoCounts);
  let viewer = await signIn(base);
  let auth = { authorization: `Bearer ${viewer.token}` };
  const me: Request[] = [{ kind: 'me', path: '/api/v1/me' }];
  const demoSearch = await searchMix(base, auth, DEMO_SEARCHES);
  await phase('demo', [
    { scenario: 'GET /me (baseline)', mix: me, headers: auth },
    { scenario: 'suggest, signed in', mix: SUGGESTS, headers: auth },
    { scenario: 'suggest, signed out', mix: SUGGESTS, headers: {} },
    { scenario: 'search, signed in', mix: demoSearch.mix, headers: auth },
    { scenario: 'search, signed out', mix: (await searchMix(base, {}, DEMO_SEARCHES)).mix, headers: {} },
  ]);

  // 2. The catalogue.
  const sizes = catalogueSizes(DOCUMENTS);
  started = performance.now();
  await node.orm.em.fork().transactional(async (tx) => generateCatalogue(db(tx), viewer.userId, sizes));
  await sql`analyze`.execute(q);
  const generateMs = Math.round(performance.now() - started);
  console.log(`catalogue generated in ${generateMs} ms`, sizes);
  started = performance.now();
  let lastReport = 0;
  const catalogueIndex = await node.deps.search.indexer.reindex((done, total) => {
    if (done - lastReport >= 20_000) {
      lastReport = done;
      console.log(`  reindex ${done} / ${total}`);
    }
  });
  const reindexMs = Math.round(performance.now() - started);
  await sql`analyze search_documents`.execute(q);
  const catalogueCounts = await documentCounts(q);
  console.log(`catalogue: ${catalogueIndex.documents} documents indexed in ${reindexMs} ms`, catalogueCounts);
  viewer = await signIn(base);
  auth = { authorization: `Bearer ${viewer.token}` };
  const signedIn = await searchMix(base, auth);
  const signedOut = await searchMix(base, {});
  await phase('catalogue', [
    { scenario: 'GET /me (baseline)', mix: me, headers: auth },
    { scenario: 'search, signed in', mix: signedIn.mix, headers: auth },
    { scenario: 'search, signed out', mix: signedOut.mix, headers: {} },
    { scenario: 'suggest, signed in', mix: SUGGESTS, headers: auth },
    { scenario: 'suggest, signed out', mix: SUGGESTS, headers: {} },
  ]);
  await node.close();

  const date = new Date().toISOString();
  const result = {
    benchmark: 'search',
    date,
    command: 'npm run bench:search',
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadAverage: { start: loadAtStart, end: os.loadavg() } },
    concurrency: CONCURRENCY,
    secondsPerScenario: SECONDS,
    demo: { documents: demoCounts, reindexMs: demoReindexMs },
    catalogue: { sizes, documents: catalogueCounts, generateMs, reindexMs, reindexed: catalogueIndex.documents },
    /** Documents each /search query matched for the viewer, signed in and signed out (its first page's total). */
    totals: { demoSignedIn: demoSearch.totals, signedIn: signedIn.totals, signedOut: signedOut.totals },
    scenarios,
    /** p50 and p95 of each scenario over its phase's GET /me (the same run, the same machine). */
    ratios: Object.fromEntries(
      scenarios.map((s) => {
        const baseline = scenarios.find((b) => b.scenario.split(':')[0] === s.scenario.split(':')[0] && b.scenario.includes('/me'))!;
        return [s.scenario, { p50: +(s.p50Ms / baseline.p50Ms).toFixed(1), p95: +(s.p95Ms / baseline.p95Ms).toFixed(1) }];
      }),
    ),
    explains,
    totalSeconds: Math.round((Date.now() - startedAt) / 1000),
  };
  console.table(
    Object.fromEntries(
      scenarios.map((s) => [
        s.scenario,
        { 'req/s': s.perSecond, p50: s.p50Ms, p95: s.p95Ms, p99: s.p99Ms, 'p95 / me': result.ratios[s.scenario]!.p95, errors: s.errors },
      ]),
    ),
  );
  for (const s of scenarios.filter((s) => Object.keys(s.byKind).length > 1)) {
    console.log(s.scenario);
    console.table(Object.fromEntries(Object.entries(s.byKind).map(([k, v]) => [k, { n: v.requests, p50: v.p50Ms, p95: v.p95Ms, p99: v.p99Ms, max: v.maxMs }])));
  }
  const file = await writeResultFile(`search-${date.slice(0, 10)}`, result);
  console.log(`written ${path.relative(process.cwd(), file)} (${result.totalSeconds} s)`);
} finally {
  await pgServer.stop();
  await rm(dataDir, { recursive: true, force: true });
}
