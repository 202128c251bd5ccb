/*
 * Malformed input, generated from a seed: the same seed gives the same payloads in the same order, so a finding is
 * reproduced by its seed and case number. Wrong types, boundary and out-of-range numbers, long strings, unicode edge
 * cases, prototype keys (own keys, as JSON.parse makes them), deep nesting, huge arrays — and, most often, a valid
 * payload with one field changed, which gets past the first layer of validation to the code behind it.
 */

/** A deterministic PRNG (mulberry32) with the helpers the generators need. */
export interface Rng {
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A child generator whose sequence depends only on this seed and `label`, so adding a target shifts no other. */
  fork(label: string): Rng;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    fork: (label) => {
      let h = seed ^ 0x9e3779b9;
      for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
      return createRng(h >>> 0);
    },
  };
  return rng;
}

/** Text the REST client sends verbatim as (part of) a JSON body: `1e999` parses to Infinity, which JSON.stringify cannot make. */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** JSON text of a value, with RawJson pieces spliced in verbatim. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : toJsonText(v))).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const parts = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** True when a value (or anything inside it) can only travel as raw JSON text. */
export function needsRawJson(value: unknown, depth = 0): boolean {
  if (value instanceof RawJson) return true;
  if (depth > 50 || !value || typeof value !== 'object') return false;
  return Object.values(value).some((v) => needsRawJson(v, depth + 1));
}

/** The families payloads are counted by. */
export const FAMILIES = ['mutation', 'type', 'number', 'string', 'unicode', 'proto', 'deep', 'array'] as const;
export type Family = (typeof FAMILIES)[number];

export const UNICODE_EDGES: readonly string[] = [
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  'a\ud83d', // an emoji cut in half
  '\udc00\ud800', // surrogates in the wrong order
  '\u202eevil.exe\u202c', // right-to-left override
  '\u200f\u200e\u061c', // directional marks
  '\u200b\u200c\u200d\u2060\ufeff', // zero-width characters and a BOM
  'nul\u0000inside',
  '\u0000',
  '👩‍👩‍👧‍👦', // ZWJ family
  '🏳️‍🌈🧑🏽‍🚀',
  `e${'\u0301'.repeat(200)}`, // stacked combining marks
  'Z̸̡̢̛̗̘̙̜̝̞̟̠̤̥̦̩̪̫̬̭̮̯̰̱̲̳̹̺̻̼ͅa̸̧̨̡̢̛̛̛',
  '\ufffe\uffff\u{10ffff}', // non-characters
  '\u2028\u2029', // line and paragraph separators
  '\u0007\u001b[31m\u007f', // control characters, an ANSI escape
  'аdmin', // Cyrillic а
  'ｆｕｌｌｗｉｄｔｈ',
  '\t \n\r ',
  '   ',
  "' OR '1'='1' --",
  '"; DROP TABLE users; --',
  '../../../../etc/passwd',
  '%00%2e%2e%2f',
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}',
  'İıſK', // case mapping that changes length
  'ß'.repeat(50),
  '\u{1F600}'.repeat(40),
];

const WRONG_TYPES: readonly unknown[] = [null, true, false, 0, 1, -1, 1.5, '', 'x', '0', 'true', 'null', [], [null], {}, { a: 1 }, [[]], [{}]];

const NUMBERS: readonly unknown[] = [
  -1,
  -0,
  0.5,
  -2147483649,
  2147483648,
  4294967296,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2,
  2 ** 63,
  1e21,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  Number.EPSILON,
  new RawJson('1e999'),
  new RawJson('-1e999'),
  new RawJson('1e-999'),
  new RawJson('-0.0'),
  new RawJson('123456789012345678901234567890'),
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '0x10',
  '1_000',
  ' 1 ',
  '',
];

function longString(rng: Rng, maxChars: number): string {
  const length = rng.pick([256, 1001, 4097, 10_001, 65_537, 100_001]);
  const unit = rng.pick(['x', 'é', '😀', '\u200b', 'a ', '<', '%']);
  return unit.repeat(Math.max(1, Math.floor(Math.min(length, maxChars) / unit.length)));
}

/** An object with own `__proto__` / `constructor` / `prototype` keys, as JSON.parse makes them. */
function protoValue(rng: Rng): unknown {
  return JSON.parse(
    rng.pick([
      '{"__proto__":{"isAdmin":true,"role":"admin"}}',
      '{"constructor":{"prototype":{"isAdmin":true}}}',
      '{"prototype":{"polluted":1}}',
      '{"__proto__":null}',
      '{"__proto__":[]}',
      '{"toString":"x","valueOf":1,"hasOwnProperty":"x"}',
      '{"__proto__":{"__proto__":{"polluted":true}}}',
    ]),
  );
}

/** Arrays or objects nested `depth` levels, built from text so no recursion is needed on our side. */
export function deepValue(depth: number, kind: 'array' | 'object'): unknown {
  return JSON.parse(kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

export interface Limits {
  /** Longest string to generate (bytes matter: the socket refuses payloads over 64 KB, REST bodies over 1 MB). */
  maxChars: number;
  /** Deepest nesting. */
  maxDepth: number;
  /** Longest array. */
  maxItems: number;
  /** Whether RawJson (non-JSON numbers) may be produced: REST bodies only. */
  raw: boolean;
}

/** One malformed value of `family` (not `mutation`). */
export function malformed(rng: Rng, family: Exclude<Family, 'mutation'>, limits: Limits): unknown {
  const pickNumber = () => {
    const n = rng.pick(NUMBERS);
    return n instanceof RawJson && !limits.raw ? 1e308 : n;
  };
  switch (family) {
    case 'type':
      return rng.pick(WRONG_TYPES);
    case 'number':
      return pickNumber();
    case 'string':
      return longString(rng, limits.maxChars);
    case 'unicode':
      return rng.chance(0.3) ? UNICODE_EDGES.map((u) => rng.pick([u, ''])).join('') : rng.pick(UNICODE_EDGES);
    case 'proto':
      return protoValue(rng);
    case 'deep':
      return deepValue(Math.min(limits.maxDepth, rng.pick([64, 1000, 1001, 2000, 3000])), rng.pick(['array', 'object']));
    case 'array': {
      const n = Math.min(limits.maxItems, rng.pick([1000, 5000, 10_000, 50_000]));
      const item = rng.pick<unknown>([0, 'a', null, {}, crypto.randomUUID()]);
      return Array.from({ length: n }, () => item);
    }
  }
}

/** What a mutation may put in place of a valid value besides malformed ones: ids of other things, boundary values. */
export interface MutationHints {
  /** Real ids of the world (of any kind): a valid-looking id of the wrong thing gets further than garbage. */
  ids: readonly string[];
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** A value that is valid or nearly so for the shape of `original`: the interesting edge of the field's domain. */
function nearlyValid(rng: Rng, original: unknown, hints: MutationHints, limits: Limits): unknown {
  if (typeof original === 'string') {
    if (/^[0-9a-f-]{36}$/i.test(original)) {
      return rng.pick([crypto.randomUUID(), NIL_UUID, MAX_UUID, original.toUpperCase(), `{${original}}`, original.slice(1), ...hints.ids]);
    }
    return rng.pick([
      '',
      ' ',
      original + rng.pick(UNICODE_EDGES),
      rng.pick(UNICODE_EDGES) + original,
      rng.pick(UNICODE_EDGES),
      original.repeat(Math.min(500, Math.ceil(limits.maxChars / 4 / Math.max(1, original.length)))),
      original.toUpperCase(),
      `${original}\u0000`,
      `http://${original}`,
      `javascript:alert(1)//${original}`,
      new Date(8.64e15).toISOString(),
      '0000-01-01T00:00:00Z',
      '2024-02-30T25:61:61Z',
    ]);
  }
  if (typeof original === 'number') {
    return rng.pick([0, -1, original + 1, original - 1, original * 1000, -original, original + 0.5, 2 ** 31, Number.MAX_SAFE_INTEGER, 1e308, -1e308]);
  }
  if (typeof original === 'boolean') return rng.pick([!original, 'true', 1, 0, null]);
  if (Array.isArray(original)) {
    return rng.pick([
      [],
      [...original, ...original],
      original.slice(1),
      Array.from({ length: Math.min(limits.maxItems, 1000) }, () => original[0] ?? 0),
      [original],
      original.map(() => null),
    ]);
  }
  return rng.pick([null, {}, [], protoValue(rng)]);
}

/** Every path to a value inside `value` (objects and arrays), the root included as []. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (prefix.length > 6) return out;
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function getAt(value: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<string | number, unknown>)?.[key], value);
}

/** Sets (or, with `remove`, deletes) the value at `path`, defining own properties so `__proto__` stays a key. */
function setAt(root: unknown, path: (string | number)[], next: unknown, remove = false): unknown {
  if (path.length === 0) return next;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
    else delete parent[key];
  } else {
    Object.defineProperty(parent, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

const clone = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

/** A valid payload with one change: a field replaced (malformed or nearly valid), removed, or an extra key added. */
export function mutate(rng: Rng, valid: unknown, hints: MutationHints, limits: Limits): unknown {
  const root = clone(valid);
  const all = paths(root);
  const path = rng.chance(0.85) && all.length > 1 ? rng.pick(all.slice(1)) : rng.pick(all);
  const original = getAt(root, path);
  const roll = rng.next();
  if (roll < 0.4) return setAt(root, path, nearlyValid(rng, original, hints, limits));
  if (roll < 0.75) {
    const family = rng.pick(FAMILIES.filter((f): f is Exclude<Family, 'mutation'> => f !== 'mutation'));
    return setAt(root, path, malformed(rng, family, limits));
  }
  if (roll < 0.85 && path.length > 0) return setAt(root, path, undefined, true);
  // An extra key beside the valid ones, prototype keys first among them.
  const target = root && typeof root === 'object' && !Array.isArray(root) ? root : {};
  const key = rng.pick(['__proto__', 'constructor', 'prototype', 'isAdmin', 'role', 'userId', 'id', '']);
  Object.defineProperty(target, key, { value: rng.pick<unknown>([true, { polluted: true }, 'admin', null]), enumerable: true, writable: true, configurable: true });
  return target;
}

/** One generated payload for a target whose valid example is `valid`: its family and value. */
export function fuzzPayload(rng: Rng, valid: unknown, hints: MutationHints, limits: Limits): { family: Family; value: unknown } {
  // Half the payloads start from the valid example: they reach the code behind the schema.
  const family: Family = rng.chance(0.5) ? 'mutation' : rng.pick(FAMILIES.slice(1));
  if (family === 'mutation') return { family, value: mutate(rng, valid, hints, limits) };
  // The other half replace the whole payload, or sit in a field of an otherwise valid one.
  const bad = malformed(rng, family, limits);
  if (valid && typeof valid === 'object' && !Array.isArray(valid) && rng.chance(0.5)) {
    const keys = Object.keys(valid);
    if (keys.length) return { family, value: setAt(clone(valid), [rng.pick(keys)], bad) };
  }
  return { family, value: bad };
}
