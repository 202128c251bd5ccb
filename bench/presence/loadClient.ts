/**
 * One load-generator process of the presence bench (forked by bench/presence.ts; never sharing an event loop with a
 * server). Its clients connect with their access tokens, send `presence:watch` for the people their screen shows,
 * and from then on only listen: every `presence:updated` is counted per client and checked against what the client
 * watches — an update about someone it neither watches nor is, is a leak.
 */
import { io, type Socket } from 'socket.io-client';
import type { PresenceStatus } from '../../contracts/chat.ts';
import { PRESENCE_WATCH_LIMIT } from '../../contracts/values/chat.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../contracts/realtime.ts';
import { nowMs } from '../chat/protocol.ts';
import type { FromPresenceLoader, PresenceClientSpec, ToPresenceLoader } from './protocol.ts';

type PresenceSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** At most this many people per presence:watch call (the contract's limit). */
const WATCH_CHUNK = 200;

interface Client {
  spec: PresenceClientSpec;
  socket?: PresenceSocket;
  watching: Set<number>;
  /** What this client shows for each watched person, from the acks and the updates. */
  shown: Map<number, PresenceStatus>;
  updates: number;
  leaks: number;
  self: number;
}

const send = (msg: FromPresenceLoader) => process.send!(msg);
let clients: Client[] = [];
let userIds: string[] = [];
let indexOf = new Map<string, number>();
let connected = 0;
let watched = 0;
let updates = 0;
let lastUpdateAt = 0;
let disconnects = 0;
let rewatches = 0;
let ackEntries = 0;
let ackExtras = 0;
let repeats = 0;
const leakExamples: [string, string][] = [];
const connectMs: number[] = [];
const watchMs: number[] = [];
const cpuStart = process.cpuUsage();

function onUpdate(client: Client, userId: string, status: PresenceStatus) {
  updates++;
  client.updates++;
  lastUpdateAt = nowMs();
  const user = indexOf.get(userId);
  if (user === client.spec.user) {
    client.self++;
    return;
  }
  if (user !== undefined && client.watching.has(user)) {
    if (client.shown.get(user) === status) repeats++;
    client.shown.set(user, status);
    return;
  }
  client.leaks++;
  if (leakExamples.length < 10) leakExamples.push([userIds[client.spec.user]!, userId]);
}

function connect(client: Client, url: string, timeoutMs: number): Promise<void> {
  const started = nowMs();
  return new Promise((resolve, reject) => {
    const socket: PresenceSocket = io(url, {
      transports: ['websocket'],
      auth: { token: client.spec.token },
      reconnection: false,
      // One engine (one WebSocket) per client: without it socket.io-client multiplexes every client on one connection.
      forceNew: true,
      timeout: timeoutMs,
    });
    client.socket = socket;
    // Listening from the start: an update that arrives before the watch is answered counts like any other.
    socket.on('presence:updated', ({ userId, status }) => onUpdate(client, userId, status));
    socket.on('presence:rewatch', () => rewatches++);
    socket.once('connect', () => {
      connectMs.push(nowMs() - started);
      socket.on('disconnect', () => disconnects++);
      resolve();
    });
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      socket.close();
      reject(new Error(`connect user ${client.spec.user}: ${err.data?.code ?? ''} ${err.message}`.replace(/\s+/g, ' ')));
    });
  });
}

/** Sends presence:watch for the client's people (in chunks of the contract's limit); resolves with an error code or null. */
async function watch(client: Client, timeoutMs: number): Promise<string | null> {
  const people = client.spec.watch;
  for (let i = 0; i < people.length; i += WATCH_CHUNK) {
    const chunk = people.slice(i, i + WATCH_CHUNK);
    const asked = new Set(chunk.map((u) => userIds[u]!));
    const started = nowMs();
    const code = await new Promise<string | null>((resolve) => {
      client.socket!.timeout(timeoutMs).emit('presence:watch', { add: [...asked], remove: [] }, (err, result) => {
        if (err) return resolve('ack_timeout');
        if (!result?.ok) return resolve(result?.error?.code ?? 'malformed_ack');
        watchMs.push(nowMs() - started);
        for (const { userId, status } of result.data?.data ?? []) {
          ackEntries++;
          const user = indexOf.get(userId);
          if (!asked.has(userId) || user === undefined) {
            ackExtras++;
            continue;
          }
          // An update that arrived before the ack is newer than what the ack read.
          if (!client.shown.has(user)) client.shown.set(user, status);
        }
        resolve(null);
      });
    });
    if (code) return code;
  }
  return null;
}

async function init(msg: Extract<ToPresenceLoader, { type: 'init' }>) {
  userIds = msg.userIds;
  indexOf = new Map(userIds.map((id, i) => [id, i]));
  if (msg.clients.some((c) => c.watch.length > PRESENCE_WATCH_LIMIT)) throw new Error(`a client watches more than ${PRESENCE_WATCH_LIMIT} people`);
  clients = msg.clients.map((spec) => ({ spec, watching: new Set(spec.watch), shown: new Map(), updates: 0, leaks: 0, self: 0 }));
  const connectFailures: string[] = [];
  const watchErrors: Record<string, number> = {};
  let watchSkipped = 0;
  let unansweredInARow = 0;
  let next = 0;
  const worker = async () => {
    while (next < clients.length) {
      const client = clients[next++]!;
      try {
        await connect(client, msg.urls[client.spec.node]!, msg.ackTimeoutMs);
        connected++;
      } catch (err) {
        if (connectFailures.length <= 20) connectFailures.push(connectFailures.length < 20 ? String((err as Error).message ?? err) : '…');
        continue;
      }
      // A server without presence:watch never answers: after a few unanswered calls in a row, stop waiting on it.
      if (unansweredInARow >= msg.unansweredLimit) {
        watchSkipped++;
        continue;
      }
      const code = await watch(client, msg.ackTimeoutMs);
      if (code === 'ack_timeout') unansweredInARow++;
      else unansweredInARow = 0;
      if (code) watchErrors[code] = (watchErrors[code] ?? 0) + 1;
      else watched++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, msg.concurrency) }, worker));
  send({ type: 'ready', connected, watched, doneAt: nowMs(), connectFailures, watchErrors, watchSkipped });
}

function collect() {
  let notShownOnline = 0;
  for (const client of clients) {
    if (!client.socket?.connected) continue;
    for (const user of client.watching) if (client.shown.get(user) !== 'online') notShownOnline++;
  }
  const cpu = process.cpuUsage(cpuStart);
  send({
    type: 'collected',
    clients: clients.length,
    updatesPerClient: Uint32Array.from(clients, (c) => c.updates),
    leaksPerClient: Uint32Array.from(clients, (c) => c.leaks),
    selfPerClient: Uint32Array.from(clients, (c) => c.self),
    ackExtras,
    ackEntries,
    repeats,
    notShownOnline,
    leakExamples,
    rewatches,
    connectMs: Float64Array.from(connectMs),
    watchMs: Float64Array.from(watchMs),
    disconnects,
    cpuMs: (cpu.user + cpu.system) / 1000,
  });
}

process.on('message', (msg: ToPresenceLoader) => {
  switch (msg.type) {
    case 'init':
      init(msg).catch((err) => send({ type: 'error', message: String(err) }));
      break;
    case 'progress':
      send({ type: 'progress', connected, watched, updates, lastUpdateAt, disconnects });
      break;
    case 'collect':
      collect();
      break;
    case 'close':
      for (const client of clients) client.socket?.close();
      send({ type: 'closed' });
      break;
  }
});
process.on('disconnect', () => process.exit(0));
