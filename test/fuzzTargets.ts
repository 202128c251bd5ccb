import { TEST_AGORA } from './classroomFactories.ts';
import { seedClassroom } from './classrooms.ts';
import { createChannelAs } from './communityFactories.ts';
import { api, connectSocket, emitOk, type ClientEvent, type EventInput, type TestUser } from './factories.ts';
import { commentAs, postAs } from './feedFactories.ts';
import type { RunningNode } from './nodes.ts';

/*
 * What the fuzzer aims at: a small world of real rows (so mutated ids can name things that exist and payloads get past
 * "not found" to the rules behind it), a valid example of every client event, and every REST operation of the OpenAPI
 * document with a valid example body and query built from its schema.
 */

export interface FuzzWorld {
  /** Owns the community and hosts the live class: a signed-in user who passes most rules, so payloads go deep. */
  host: TestUser;
  /** A plain member registered for the class. */
  learner: TestUser;
  communityId: string;
  channelId: string;
  messageId: string;
  classroomId: string;
  pollId: string;
  postId: string;
  commentId: string;
  /** Every id above (and the people's), for mutations that put a real id of the wrong kind in a field. */
  ids: string[];
}

export async function buildWorld(node: RunningNode): Promise<FuzzWorld> {
  const room = await seedClassroom(node, { learners: 2 });
  const host = room.host;
  const learner = room.learners[0]!;
  const channel = await createChannelAs(node.url, host, room.communityId);
  const socket = await connectSocket(node.url, host.accessToken);
  try {
    await emitOk(socket, 'channel:join', { channelId: channel.id });
    const message = await emitOk(socket, 'message:send', { channelId: channel.id, clientId: 'fuzz-world-1', body: 'hello' });
    await emitOk(socket, 'classroom:join', { classroomId: room.classroomId });
    const { poll } = await emitOk(socket, 'poll:create', { classroomId: room.classroomId, question: 'Which?', options: ['a', 'b'] });
    const post = await postAs(node, host, room.communityId, 'A post to comment on');
    const comment = await commentAs(node, learner, post.id, 'A comment');
    const ids = {
      communityId: room.communityId,
      channelId: channel.id,
      messageId: message.id,
      classroomId: room.classroomId,
      pollId: poll.id,
      postId: post.id,
      commentId: comment.id,
    };
    return { host, learner, ...ids, ids: [...Object.values(ids), host.user.id, learner.user.id] };
  } finally {
    socket.close();
  }
}

/**
 * A valid payload of every client event. The mapped type makes the compiler refuse this table until an event added to
 * ClientToServerEvents has its example, so the fuzzer covers every event the contracts declare.
 */
export const SOCKET_EXAMPLES: { [E in ClientEvent]: (w: FuzzWorld) => EventInput<E> } = {
  'session:hello': () => ({}),
  'channel:join': (w) => ({ channelId: w.channelId, afterSeq: 0 }),
  'channel:leave': (w) => ({ channelId: w.channelId }),
  'message:send': (w) => ({ channelId: w.channelId, clientId: 'fuzz-client-0001', body: 'hello there', replyToId: w.messageId }),
  'message:edit': (w) => ({ messageId: w.messageId, body: 'edited' }),
  'message:delete': (w) => ({ messageId: w.messageId }),
  'message:pin': (w) => ({ messageId: w.messageId, pinned: true }),
  'reaction:toggle': (w) => ({ messageId: w.messageId, emoji: '👍' }),
  'typing:start': (w) => ({ channelId: w.channelId }),
  'read:mark': (w) => ({ channelId: w.channelId, seq: 1 }),
  'presence:set': () => ({ status: 'away' }),
  'presence:watch': (w) => ({ add: [w.learner.user.id], remove: [w.host.user.id] }),
  'presence:focus': () => ({ focused: true }),
  'classroom:join': (w) => ({ classroomId: w.classroomId }),
  'classroom:leave': (w) => ({ classroomId: w.classroomId }),
  'hand:raise': (w) => ({ classroomId: w.classroomId }),
  'hand:lower': (w) => ({ classroomId: w.classroomId }),
  'hand:dismiss': (w) => ({ classroomId: w.classroomId, userId: w.learner.user.id }),
  'stage:invite': (w) => ({ classroomId: w.classroomId, userId: w.learner.user.id }),
  'stage:accept': (w) => ({ classroomId: w.classroomId }),
  'stage:decline': (w) => ({ classroomId: w.classroomId }),
  'stage:remove': (w) => ({ classroomId: w.classroomId, userId: w.learner.user.id }),
  'room:mute_all': (w) => ({ classroomId: w.classroomId }),
  'waiting:admit': (w) => ({ classroomId: w.classroomId, userId: w.learner.user.id }),
  'waiting:deny': (w) => ({ classroomId: w.classroomId, userId: w.learner.user.id }),
  'poll:create': (w) => ({ classroomId: w.classroomId, question: 'Which one?', options: ['a', 'b', 'c'], multiple: true, correctOptions: [0], timeLimitSeconds: 60 }),
  'poll:answer': (w) => ({ classroomId: w.classroomId, pollId: w.pollId, options: [0] }),
  'poll:change': (w) => ({ classroomId: w.classroomId, pollId: w.pollId, options: [1] }),
  'poll:close': (w) => ({ classroomId: w.classroomId, pollId: w.pollId }),
  'poll:reveal': (w) => ({ classroomId: w.classroomId, pollId: w.pollId }),
  'feed:subscribe': (w) => ({ communityId: w.communityId }),
  'feed:unsubscribe': (w) => ({ communityId: w.communityId }),
  'moderation:subscribe': (w) => ({ communityId: w.communityId }),
  'moderation:unsubscribe': (w) => ({ communityId: w.communityId }),
};

export const SOCKET_EVENTS = Object.keys(SOCKET_EXAMPLES) as ClientEvent[];

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  maxItems?: number;
}

export interface RestOperation {
  method: string;
  /** OpenAPI path, `{param}` style. */
  template: string;
  auth: 'required' | 'optional' | 'none';
  body?: JsonSchema;
  pathParams: string[];
  query: { name: string; schema?: JsonSchema }[];
}

type OpenApiDocument = { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, JsonSchema> } };

/** Every operation of the node's OpenAPI document: every route the API registers goes through it (api/routeKit.ts). */
export async function loadOperations(url: string): Promise<{ operations: RestOperation[]; resolve: (s?: JsonSchema) => JsonSchema | undefined }> {
  const res = await api<OpenApiDocument>(url, 'GET', '/api/v1/openapi.json');
  if (res.status !== 200) throw new Error(`openapi.json answered ${res.status}`);
  const doc = res.body;
  const resolve = (schema?: JsonSchema): JsonSchema | undefined =>
    schema?.$ref ? resolve(doc.components?.schemas?.[schema.$ref.replace('#/components/schemas/', '')]) : schema;
  const operations = Object.entries(doc.paths).flatMap(([template, item]) =>
    Object.entries(item).map(([method, op]): RestOperation => {
      const parameters: { in: string; name: string; schema?: JsonSchema }[] = op.parameters ?? [];
      const security: object[] = op.security ?? [];
      return {
        method: method.toUpperCase(),
        template,
        auth: security.length === 0 ? 'none' : security.some((r) => Object.keys(r).length === 0) ? 'optional' : 'required',
        body: op.requestBody?.content?.['application/json']?.schema,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema })),
      };
    }),
  );
  return { operations, resolve };
}

/** The world id a path parameter most likely names, by the resource the path starts with. */
export function worldIdFor(world: FuzzWorld, template: string, param: string): string {
  if (param === 'userId') return world.learner.user.id;
  const resource = template.replace(/^\/api\/v1\//, '').split('/')[0];
  const byResource: Record<string, string> = {
    communities: world.communityId,
    channels: world.channelId,
    messages: world.messageId,
    classrooms: world.classroomId,
    posts: world.postId,
    comments: world.commentId,
    users: world.learner.user.id,
  };
  return (param === 'id' && resource && byResource[resource]) || crypto.randomUUID();
}

/** The world id a body or query field of this name most likely holds. */
function worldIdForField(world: FuzzWorld, name: string): string {
  const byField: Record<string, string> = {
    communityId: world.communityId,
    channelId: world.channelId,
    messageId: world.messageId,
    classroomId: world.classroomId,
    pollId: world.pollId,
    postId: world.postId,
    parentId: world.commentId,
    commentId: world.commentId,
    userId: world.learner.user.id,
  };
  return byField[name] ?? crypto.randomUUID();
}

/**
 * A value the schema accepts, as far as the document says (refinements in code are not in it): required properties
 * always, optional ones every other time, the smallest length and the lowest number the bounds allow.
 */
export function sampleValid(
  schema: JsonSchema | undefined,
  resolve: (s?: JsonSchema) => JsonSchema | undefined,
  world: FuzzWorld,
  pick: { chance(p: number): boolean },
  name = '',
  depth = 0,
): unknown {
  const s = resolve(schema);
  if (!s || depth > 8) return undefined;
  if ('const' in s) return s.const;
  if (s.enum?.length) return s.enum[0];
  if (s.default !== undefined) return s.default;
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) {
    const usable = alternatives.filter((a) => resolve(a)?.type !== 'null');
    return sampleValid(usable[0] ?? alternatives[0], resolve, world, pick, name, depth + 1);
  }
  if (s.allOf) {
    return Object.assign({}, ...s.allOf.map((part) => sampleValid(part, resolve, world, pick, name, depth + 1) as object));
  }
  const type = [s.type ?? (s.properties ? 'object' : 'string')].flat().find((t) => t !== 'null');
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set(s.required ?? []);
      for (const [key, prop] of Object.entries(s.properties ?? {})) {
        if (!required.has(key) && !pick.chance(0.5)) continue;
        const value = sampleValid(prop, resolve, world, pick, key, depth + 1);
        if (value !== undefined) out[key] = value;
      }
      return out;
    }
    case 'array': {
      const count = Math.min(Math.max(s.minItems ?? 1, 1), s.maxItems ?? 1);
      return Array.from({ length: count }, () => sampleValid(s.items, resolve, world, pick, name, depth + 1));
    }
    case 'integer':
    case 'number': {
      const low = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
      return Math.min(low, s.maximum ?? low);
    }
    case 'boolean':
      return true;
    default:
      return sampleString(s, world, name);
  }
}

function sampleString(s: JsonSchema, world: FuzzWorld, name: string): string {
  switch (s.format) {
    case 'uuid':
      return worldIdForField(world, name);
    case 'email':
      return `fuzz-${Math.random().toString(36).slice(2, 10)}@example.test`;
    case 'date-time':
      return new Date(Date.now() + 3_600_000).toISOString();
    case 'date':
      return '2030-01-01';
    case 'uri':
    case 'url':
      return 'https://example.com/fuzz';
  }
  const min = s.minLength ?? 1;
  const max = s.maxLength ?? 200;
  // Field names say what the document cannot (refinements in code): an e-mail address, a country, a time zone.
  // Never a fuzzing user's own password, so a mutated body cannot change it.
  const byName: [RegExp, string][] = [
    [/email/i, `fuzz-${Math.random().toString(36).slice(2, 10)}@example.test`],
    [/password/i, 'a fuzzing passphrase 123'],
    [/country/i, 'DE'],
    [/currency/i, 'EUR'],
    [/code$/i, 'FUZZ-10'],
    [/timeZone/i, 'Europe/Berlin'],
    [/language|locale/i, 'en'],
  ];
  const named = byName.find(([pattern]) => pattern.test(name))?.[1];
  const candidates = [...(named ? [named] : []), 'Fuzz sample text', 'fuzz_sample-01', 'abcdefghij', 'FUZZ-10', 'EUR', 'DE', 'en', 'a'.repeat(Math.max(min, 1)), '1'];
  const fits = (c: string) => c.length >= min && c.length <= max && (!s.pattern || safeTest(s.pattern, c));
  return candidates.find(fits) ?? 'x'.repeat(Math.min(Math.max(min, 1), max));
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return false;
  }
}

/**
 * The node's settings for fuzzing: per-user budgets (60 events and 20 messages per 10 s) lifted, so payloads reach
 * validation and the operations behind it instead of stopping at `rate_limited`; a video provider configured, so live
 * class tokens are issued rather than refused as `unavailable`. Everything else is as in production.
 */
export const FUZZ_NODE_ENV = {
  RATE_LIMIT_EVENTS_PER_10S: '1000000',
  RATE_LIMIT_MESSAGES_PER_10S: '1000000',
  // The run sends as fast as it can from one socket: the flood guard would close it long before validation is reached.
  SOCKET_EVENT_BURST: '1000000',
  SOCKET_EVENTS_PER_SECOND: '1000000',
  ...TEST_AGORA,
};
