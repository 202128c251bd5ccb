/**
 * What the orchestrator (bench/chat.ts), the load clients (loadClient.ts) and the server probe (probe.ts) say to
 * each other over Node's IPC channel (advanced serialization, so typed arrays travel as they are).
 */

export type Side = 'baseline' | 'edulure';

/** One client connection: which node it talks to, which room it joins and where it sits in that room. */
export interface ConnSpec {
  index: number;
  node: number;
  room: number;
  /** Position in the room (0…roomSize-1); a delivery is identified by (message, position). */
  position: number;
  /** Edulure: the channel id of the room and the member's access token. Baseline: unused. */
  channelId?: string;
  token?: string;
}

/** One scheduled message; `at` is epoch milliseconds (performance.timeOrigin + performance.now()). */
export interface ScheduledSend {
  m: number;
  at: number;
  conn: number;
  room: number;
  /** The connection (user) this message mentions, if any. */
  mention?: number;
}

export type ToLoadClient =
  | { type: 'init'; side: Side; urls: string[]; conns: ConnSpec[]; connectConcurrency: number; timeoutMs: number }
  | { type: 'step'; step: number; totalMessages: number; roomSize: number; sends: ScheduledSend[] }
  | { type: 'progress'; step: number }
  | { type: 'collect'; step: number }
  | { type: 'close' };

export interface InitReport {
  type: 'ready';
  connected: number;
  joined: number;
  failures: string[];
  connectMs: number;
}

export interface ProgressReport {
  type: 'progress';
  step: number;
  received: number;
  acked: number;
  ackFailed: number;
  disconnects: number;
}

export interface StepReport {
  type: 'collected';
  step: number;
  sent: number;
  acked: number;
  ackErrors: Record<string, number>;
  /** Deliveries to members other than the sender (the ones counted in reach). */
  received: number;
  /** The sender's own copy of its message (both servers broadcast to the whole room); not counted in reach. */
  echoes: number;
  duplicates: number;
  /** Edulure only: a channel event that arrived after one with a higher seq (the client holds it back; not a loss). */
  outOfOrder: number;
  disconnects: number;
  /** Milliseconds from scheduled send time to receipt at each receiver. */
  e2e: Float64Array;
  /** Edulure only: milliseconds from scheduled send time until the receiver could apply it in seq order. */
  applied: Float64Array;
  /** Edulure only: events still waiting for a predecessor that has not arrived (a gap), over all connections. */
  heldBack: number;
  /** Milliseconds from scheduled send time to the sender's ack. */
  ack: Float64Array;
  /** Milliseconds the generator emitted late (actual emit − scheduled): a sanity check on the load generator. */
  lag: Float64Array;
  cpuMs: number;
  /** [window (scheduled time / 100 ms), worst e2e ms in it]. */
  worstByWindow: [number, number][];
}

export type FromLoadClient = InitReport | ProgressReport | StepReport | { type: 'error'; message: string };

export interface ProbeReply {
  type: 'bench:probe:reply';
  id: number;
  memory: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
  /** Event-loop utilisation since process start (idle, active, utilization), to diff between probes. */
  elu: { idle: number; active: number; utilization: number };
  /** Since the previous probe: the longest event-loop delay (10 ms resolution) and the garbage collector's pauses. */
  sinceLastProbe?: { loopDelayMaxMs: number; loopDelayP99Ms: number; gc: { count: number; totalMs: number; maxMs: number } };
}

/** The message body carries everything a receiver needs; no '@', so Edulure's mention lookup is not triggered. */
export function encodeBody(step: number, m: number, senderConn: number, scheduledAt: number, mention?: number): string {
  const body = `bench ${step} ${m} ${senderConn} ${scheduledAt.toFixed(3)}`;
  return mention === undefined ? body : `${body} @Bench ${mention}`;
}

export function decodeBody(body: string): { step: number; m: number; senderConn: number; scheduledAt: number } | null {
  const parts = body.split(' ');
  // A mention (`@Bench <i>`) may follow the five fields.
  if ((parts.length !== 5 && parts.length !== 7) || parts[0] !== 'bench') return null;
  return { step: Number(parts[1]), m: Number(parts[2]), senderConn: Number(parts[3]), scheduledAt: Number(parts[4]) };
}

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
