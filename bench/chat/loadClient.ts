/**
 * One load-generator process of the chat bench (forked by bench/chat.ts, several of them, never sharing an event loop
 * with a server). It opens its share of the client connections, joins each to its room, sends the messages it is
 * given at their scheduled times (open loop: the schedule does not wait for acks) and records, at every receiver,
 * the time from the scheduled send to receipt. The same code drives the baseline and Edulure; only event names and
 * payload shapes differ.
 */
import { io, type Socket } from 'socket.io-client';
import {
  decodeBody,
  encodeBody,
  nowMs,
  type ConnSpec,
  type FromLoadClient,
  type ScheduledSend,
  type Side,
  type StepReport,
  type ToLoadClient,
} from './protocol.ts';

/** A growable Float64Array: latency samples without boxing hundreds of thousands of numbers. */
class Samples {
  #data = new Float64Array(1024);
  #length = 0;
  push(value: number) {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }
  toArray(): Float64Array {
    return this.#data.slice(0, this.#length);
  }
}

interface StepState {
  step: number;
  roomSize: number;
  /** One byte per (message, room position): counts duplicates. */
  seen: Uint8Array;
  sent: number;
  acked: number;
  ackErrors: Record<string, number>;
  received: number;
  echoes: number;
  duplicates: number;
  outOfOrder: number;
  e2e: Samples;
  applied: Samples;
  ack: Samples;
  lag: Samples;
  cpuStart: NodeJS.CpuUsage;
  /** Worst e2e latency per 100 ms window of scheduled send time: when in the step the tail happened. */
  worstByWindow: Map<number, number>;
  timer?: NodeJS.Timeout;
}

interface Client {
  spec: ConnSpec;
  socket: Socket;
  /** Edulure: the last channel seq this connection applied, the highest seen, and events waiting for a predecessor. */
  lastApplied: number;
  maxSeq: number;
  held: Map<number, { step: number; scheduledAt: number; echo: boolean }>;
}

const send = (msg: FromLoadClient) => process.send!(msg);
const clients = new Map<number, Client>();
const steps = new Map<number, StepState>();
let side: Side = 'baseline';
let ackTimeoutMs = 30_000;
let disconnects = 0;

function onDelivery(client: Client, body: string, seq?: number) {
  const decoded = decodeBody(body);
  if (!decoded) return;
  const state = steps.get(decoded.step);
  const echo = decoded.senderConn === client.spec.index;
  if (seq !== undefined) applyInOrder(client, seq, decoded.step, decoded.scheduledAt, echo);
  if (!state) return;
  if (echo) {
    state.echoes++;
    return;
  }
  const key = decoded.m * state.roomSize + client.spec.position;
  if (state.seen[key]) {
    state.duplicates++;
    return;
  }
  state.seen[key] = 1;
  state.received++;
  const latency = nowMs() - decoded.scheduledAt;
  state.e2e.push(latency);
  const window = Math.floor(decoded.scheduledAt / 100);
  if (latency > (state.worstByWindow.get(window) ?? 0)) state.worstByWindow.set(window, latency);
}

/**
 * Edulure channel events carry the channel's seq. A client applies them in seq order (an early event waits for its
 * predecessor), so besides arrival we record when each event could be applied, and count arrivals out of order.
 */
function applyInOrder(client: Client, seq: number, step: number, scheduledAt: number, echo: boolean) {
  const state = steps.get(step);
  if (state && seq < client.maxSeq) state.outOfOrder++;
  client.maxSeq = Math.max(client.maxSeq, seq);
  if (seq <= client.lastApplied || client.held.has(seq)) return;
  client.held.set(seq, { step, scheduledAt, echo });
  for (let next = client.held.get(client.lastApplied + 1); next; next = client.held.get(client.lastApplied + 1)) {
    client.held.delete(client.lastApplied + 1);
    client.lastApplied++;
    if (!next.echo) steps.get(next.step)?.applied.push(nowMs() - next.scheduledAt);
  }
}

function connect(spec: ConnSpec, urls: string[]): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = io(urls[spec.node]!, {
      transports: ['websocket'],
      auth: spec.token ? { token: spec.token } : {},
      reconnection: false,
      // One engine (one WebSocket) per client: without it socket.io-client multiplexes every client on one connection.
      forceNew: true,
      timeout: ackTimeoutMs,
    });
    const client: Client = { spec, socket, lastApplied: 0, maxSeq: 0, held: new Map() };
    if (side === 'baseline') {
      socket.on('msg', (payload: { body: string }) => onDelivery(client, payload.body));
    } else {
      socket.on('message:created', (event: { seq: number; message: { body: string } }) => onDelivery(client, event.message.body, event.seq));
    }
    socket.once('connect', () => {
      socket.on('disconnect', () => disconnects++);
      resolve(client);
    });
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      socket.close();
      reject(new Error(`connect ${spec.index}: ${err.data?.code ?? ''} ${err.message}`));
    });
  });
}

function join(client: Client): Promise<void> {
  const { socket, spec } = client;
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, res?: { ok: boolean; error?: { code: string }; data?: { lastSeq?: number } }) => {
      if (err) return reject(new Error(`join ${spec.index}: ${err.message}`));
      if (!res?.ok) return reject(new Error(`join ${spec.index}: ${res?.error?.code ?? 'refused'}`));
      client.lastApplied = client.maxSeq = res.data?.lastSeq ?? 0;
      resolve();
    };
    if (side === 'baseline') socket.timeout(ackTimeoutMs).emit('join', { room: `r${spec.room}` }, done);
    else socket.timeout(ackTimeoutMs).emit('channel:join', { channelId: spec.channelId }, done);
  });
}

/** Connects and joins the given connections (added to any from an earlier init), at most `concurrency` in flight. */
async function init(msg: Extract<ToLoadClient, { type: 'init' }>) {
  side = msg.side;
  ackTimeoutMs = msg.timeoutMs;
  const started = Date.now();
  const failures: string[] = [];
  let next = 0;
  let connected = 0;
  let joined = 0;
  const worker = async () => {
    while (next < msg.conns.length) {
      const spec = msg.conns[next++]!;
      try {
        const client = await connect(spec, msg.urls);
        clients.set(spec.index, client);
        connected++;
        await join(client);
        joined++;
      } catch (err) {
        if (failures.length < 20) failures.push(String((err as Error).message ?? err));
        else failures.push('…');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, msg.connectConcurrency) }, worker));
  send({ type: 'ready', connected, joined, failures: failures.slice(0, 21), connectMs: Date.now() - started });
}

function emitScheduled(state: StepState, s: ScheduledSend) {
  const client = clients.get(s.conn);
  if (!client) {
    state.ackErrors.no_connection = (state.ackErrors.no_connection ?? 0) + 1;
    return;
  }
  const emittedAt = nowMs();
  state.lag.push(emittedAt - s.at);
  state.sent++;
  const body = encodeBody(state.step, s.m, s.conn, s.at, s.mention);
  const onAck = (err: Error | null, res?: { ok: boolean; error?: { code: string } }) => {
    if (err || !res?.ok) {
      const code = err ? 'ack_timeout' : (res?.error?.code ?? 'refused');
      state.ackErrors[code] = (state.ackErrors[code] ?? 0) + 1;
      return;
    }
    state.acked++;
    state.ack.push(nowMs() - s.at);
  };
  if (side === 'baseline') {
    client.socket.timeout(ackTimeoutMs).emit('send', { room: `r${s.room}`, body }, onAck);
  } else {
    client.socket.timeout(ackTimeoutMs).emit('message:send', { channelId: client.spec.channelId, clientId: `bench-${state.step}-${s.m}`, body }, onAck);
  }
}

function startStep(msg: Extract<ToLoadClient, { type: 'step' }>) {
  const state: StepState = {
    step: msg.step,
    roomSize: msg.roomSize,
    seen: new Uint8Array(msg.totalMessages * msg.roomSize),
    sent: 0,
    acked: 0,
    ackErrors: {},
    received: 0,
    echoes: 0,
    duplicates: 0,
    outOfOrder: 0,
    e2e: new Samples(),
    applied: new Samples(),
    ack: new Samples(),
    lag: new Samples(),
    cpuStart: process.cpuUsage(),
    worstByWindow: new Map(),
  };
  steps.set(msg.step, state);
  const sends = [...msg.sends].sort((a, b) => a.at - b.at);
  let i = 0;
  const pump = () => {
    const now = nowMs();
    while (i < sends.length && sends[i]!.at <= now) emitScheduled(state, sends[i++]!);
    if (i < sends.length) state.timer = setTimeout(pump, Math.max(0, sends[i]!.at - nowMs()));
  };
  pump();
  send({ type: 'progress', step: msg.step, received: 0, acked: 0, ackFailed: 0, disconnects });
}

function collect(step: number) {
  const state = steps.get(step);
  if (!state) return send({ type: 'error', message: `no step ${step}` });
  clearTimeout(state.timer);
  steps.delete(step);
  const cpu = process.cpuUsage(state.cpuStart);
  const report: StepReport = {
    type: 'collected',
    step,
    sent: state.sent,
    acked: state.acked,
    ackErrors: state.ackErrors,
    received: state.received,
    echoes: state.echoes,
    duplicates: state.duplicates,
    outOfOrder: state.outOfOrder,
    disconnects,
    e2e: state.e2e.toArray(),
    applied: state.applied.toArray(),
    heldBack: [...clients.values()].reduce((n, c) => n + c.held.size, 0),
    ack: state.ack.toArray(),
    lag: state.lag.toArray(),
    cpuMs: (cpu.user + cpu.system) / 1000,
    worstByWindow: [...state.worstByWindow],
  };
  send(report);
}

process.on('message', (msg: ToLoadClient) => {
  switch (msg.type) {
    case 'init':
      init(msg).catch((err) => send({ type: 'error', message: String(err) }));
      break;
    case 'step':
      startStep(msg);
      break;
    case 'progress': {
      const state = steps.get(msg.step);
      const ackFailed = Object.values(state?.ackErrors ?? {}).reduce((a, b) => a + b, 0);
      send({ type: 'progress', step: msg.step, received: state?.received ?? 0, acked: state?.acked ?? 0, ackFailed, disconnects });
      break;
    }
    case 'collect':
      collect(msg.step);
      break;
    case 'close':
      for (const { socket } of clients.values()) socket.close();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
process.on('disconnect', () => process.exit(0));
