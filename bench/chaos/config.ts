import { numberFrom } from '../chat/config.ts';

/** Settings of the kill drill from the environment; `BENCH_QUICK=1` shrinks it for trying things out. */
export interface ChaosConfig {
  quick: boolean;
  connections: number;
  roomSize: number;
  /** Total message rate (msg/s over all rooms) of the steady load during which the node is killed. */
  rate: number;
  warmupRate: number;
  warmupSeconds: number;
  /** Seconds of steady load before node 2 gets SIGKILL. */
  killAfterSeconds: number;
  /** Seconds the load keeps running after the kill. */
  afterKillSeconds: number;
  /** Every reconnecting client is to be caught up within this after the kill (the target 4). */
  catchUpBudgetSeconds: number;
  /** Load clients give up on a send still not acknowledged this long after the last scheduled send. */
  giveUpSeconds: number;
  /** After the load (and the give-up time): how long to wait for everything to settle before verifying anyway. */
  drainSeconds: number;
  /** A send with no ack after this is sent again (same clientId), like the web client's ack timeout. */
  ackTimeoutMs: number;
  /** How long an early event waits for its predecessor before the client catches up (the web client's grace). */
  gapGraceMs: number;
  loadProcesses: number;
  connectConcurrency: number;
  seed: number;
  /** BENCH_CPU_PROFILE=1: a V8 CPU profile of node 1 from the kill until the storm is over (diagnosis only). */
  cpuProfile: boolean;
}

/** Defaults of a drill built on this one (the rolling restart), still overridden by the environment. */
export type DrillDefaults = Partial<Pick<ChaosConfig, 'rate' | 'killAfterSeconds' | 'afterKillSeconds' | 'connections'>>;

export function loadChaosConfig(defaults: DrillDefaults = {}): ChaosConfig {
  const quick = ['1', 'true', 'yes'].includes(process.env.BENCH_QUICK ?? '');
  const roomSize = Math.floor(numberFrom('BENCH_ROOM_SIZE', 20));
  const connections = Math.floor(numberFrom('BENCH_CONNECTIONS', quick ? 400 : (defaults.connections ?? 5000)));
  if (roomSize < 2 || roomSize % 2 !== 0) throw new Error('BENCH_ROOM_SIZE must be an even number ≥ 2 (half of each room on each node)');
  if (connections % roomSize !== 0) throw new Error('BENCH_CONNECTIONS must be a multiple of BENCH_ROOM_SIZE');
  return {
    quick,
    connections,
    roomSize,
    rate: numberFrom('BENCH_RATE', defaults.rate ?? (quick ? 100 : 400)),
    warmupRate: numberFrom('BENCH_WARMUP_RATE', 50),
    warmupSeconds: numberFrom('BENCH_WARMUP_SECONDS', quick ? 2 : 4),
    killAfterSeconds: numberFrom('BENCH_KILL_AFTER_SECONDS', defaults.killAfterSeconds ?? (quick ? 3 : 6)),
    afterKillSeconds: numberFrom('BENCH_AFTER_KILL_SECONDS', defaults.afterKillSeconds ?? (quick ? 8 : 20)),
    catchUpBudgetSeconds: numberFrom('BENCH_CATCH_UP_BUDGET_SECONDS', 10),
    giveUpSeconds: numberFrom('BENCH_GIVE_UP_SECONDS', 30),
    drainSeconds: numberFrom('BENCH_DRAIN_SECONDS', 30),
    ackTimeoutMs: numberFrom('BENCH_ACK_TIMEOUT_MS', 10_000),
    gapGraceMs: numberFrom('BENCH_GAP_GRACE_MS', 250),
    loadProcesses: Math.floor(numberFrom('BENCH_LOAD_PROCESSES', 2)),
    connectConcurrency: Math.floor(numberFrom('BENCH_CONNECT_CONCURRENCY', 50)),
    seed: Math.floor(numberFrom('BENCH_SEED', 1)),
    cpuProfile: ['1', 'true', 'yes'].includes(process.env.BENCH_CPU_PROFILE ?? ''),
  };
}
