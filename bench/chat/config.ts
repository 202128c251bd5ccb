/** Bench settings from the environment; `BENCH_QUICK=1` shrinks everything for trying things out. */
export interface ChatBenchConfig {
  quick: boolean;
  connections: number;
  roomSize: number;
  /**
   * Members per community (a multiple of roomSize). Presence announces every user coming online to their
   * communities' members, so connecting N members of one community costs ~N²/2 deliveries: the default keeps the
   * chat measurement about chat and the run short; BENCH_COMMUNITY_SIZE=5000 measures that storm.
   */
  communitySize: number;
  /** Total message rates (msg/s over all rooms), tried in order until p99 passes the threshold or reach < 1. */
  rates: number[];
  stepSeconds: number;
  /** Unrecorded traffic at the step's own rate right before each measured step. */
  primerSeconds: number;
  warmupRate: number;
  warmupSeconds: number;
  /** After a step's last scheduled send, how long to wait for outstanding deliveries and acks. */
  drainSeconds: number;
  loadProcesses: number;
  /** Seconds connected but silent, to measure what holding the connections costs. */
  idleSeconds: number;
  /** BENCH_CPU_PROFILE=1: servers run with --cpu-prof (diagnosis only: profiling slows them down). */
  cpuProfile: boolean;
  /** BENCH_HEAP_PROFILE=1: heap snapshots of node 0 before and after connecting, grouped by constructor (diagnosis). */
  heapProfile: boolean;
  nodes: number;
  /** Capacity = the highest rate whose e2e p99 stays at or under this, with reach exactly 1. */
  p99ThresholdMs: number;
  /** The step whose p99 is compared for the "nominal load" target. */
  nominalRate: number;
  connectConcurrency: number;
  sides: ('baseline' | 'edulure')[];
  seed: number;
  /**
   * Every Nth message mentions another member of its room (`@Bench <i>`), so Edulure's notification path runs under
   * the load: the message noted for notification with it, the notification insert, `notification:created` to the mentioned
   * user's room, the e-mail digest queued. Both sides carry the same bodies. 0: plain messages only.
   */
  mentionEvery: number;
}

/** A positive number from the environment, or the fallback when unset. */
export function numberFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got ${JSON.stringify(raw)})`);
  return value;
}

export function loadChatBenchConfig(): ChatBenchConfig {
  const quick = ['1', 'true', 'yes'].includes(process.env.BENCH_QUICK ?? '');
  const rates = (process.env.BENCH_RATES ?? (quick ? '50,100' : '50,100,200,400,800,1600,3200,6400'))
    .split(',')
    .map((r) => Number(r.trim()))
    .filter((r) => Number.isFinite(r) && r > 0);
  if (!rates.length) throw new Error('BENCH_RATES must list positive message rates, e.g. 50,100,200');
  const roomSize = Math.floor(numberFrom('BENCH_ROOM_SIZE', 20));
  const communitySize = Math.floor(numberFrom('BENCH_COMMUNITY_SIZE', roomSize));
  if (communitySize % roomSize !== 0) throw new Error('BENCH_COMMUNITY_SIZE must be a multiple of BENCH_ROOM_SIZE');
  const sides = (process.env.BENCH_SIDES ?? 'baseline,edulure').split(',').map((s) => s.trim());
  for (const s of sides) if (s !== 'baseline' && s !== 'edulure') throw new Error(`BENCH_SIDES: unknown side ${s}`);
  return {
    quick,
    connections: Math.floor(numberFrom('BENCH_CONNECTIONS', quick ? 400 : 5000)),
    roomSize,
    communitySize,
    rates,
    stepSeconds: numberFrom('BENCH_STEP_SECONDS', quick ? 3 : 8),
    primerSeconds: process.env.BENCH_PRIMER_SECONDS === '0' ? 0 : numberFrom('BENCH_PRIMER_SECONDS', quick ? 1 : 2),
    warmupRate: numberFrom('BENCH_WARMUP_RATE', 50),
    warmupSeconds: numberFrom('BENCH_WARMUP_SECONDS', quick ? 2 : 4),
    drainSeconds: numberFrom('BENCH_DRAIN_SECONDS', 10),
    loadProcesses: Math.floor(numberFrom('BENCH_LOAD_PROCESSES', 2)),
    idleSeconds: numberFrom('BENCH_IDLE_SECONDS', quick ? 2 : 5),
    cpuProfile: ['1', 'true', 'yes'].includes(process.env.BENCH_CPU_PROFILE ?? ''),
    heapProfile: ['1', 'true', 'yes'].includes(process.env.BENCH_HEAP_PROFILE ?? ''),
    // BENCH_NODES=1 puts every connection on one node (the 10,000-socket figure).
    nodes: Math.max(1, Math.floor(numberFrom('BENCH_NODES', 2))),
    p99ThresholdMs: numberFrom('BENCH_P99_THRESHOLD_MS', 250),
    nominalRate: numberFrom('BENCH_NOMINAL_RATE', 100),
    connectConcurrency: Math.floor(numberFrom('BENCH_CONNECT_CONCURRENCY', 50)),
    sides: sides as ChatBenchConfig['sides'],
    seed: Math.floor(numberFrom('BENCH_SEED', 1)),
    mentionEvery: process.env.BENCH_MENTION_EVERY?.trim() === '0' ? 0 : Math.floor(numberFrom('BENCH_MENTION_EVERY', 10)),
  };
}
