import { numberFrom } from '../chat/config.ts';
/** Presence bench settings from the environment; `BENCH_QUICK=1` runs 500 users for a smoke test. */
export interface PresenceBenchConfig {
  quick: boolean;
  /** Users per scenario (each scenario has its own users): BENCH_PRESENCE_USERS. */
  users: number;
  /** Members per community in the "communities of 20" scenario. */
  smallCommunitySize: number;
  /** In the one-community scenario every client watches the first `memberListPage` members (one page of the member list)… */
  memberListPage: number;
  /** …and this many other members chosen at random (a DM list). */
  randomOthers: number;
  /** Clients connecting (and sending their first presence:watch) at once, over all load generators. */
  connectConcurrency: number;
  loadProcesses: number;
  /** Presence has settled once no presence:updated arrived for this long. */
  quietMs: number;
  settleTimeoutSeconds: number;
  /** Seconds with every client connected and silent, over which idle CPU is measured. */
  idleSeconds: number;
  /** Rounds of both scenarios; the order alternates from one round to the next. */
  rounds: number;
  /** A presence:watch without an ack after this long counts as unanswered. */
  ackTimeoutMs: number;
  /** A load generator stops sending presence:watch after this many unanswered ones in a row (the server lacks it). */
  unansweredLimit: number;
  /** Upper bound on connecting and watching all clients of one scenario. */
  connectTimeoutSeconds: number;
  seed: number;
  nodes: number;
  /** BENCH_CPU_PROFILE=1: the nodes record CPU profiles of the idle windows (diagnosis: profiling costs CPU). */
  cpuProfile: boolean;
}

export function loadPresenceBenchConfig(): PresenceBenchConfig {
  const quick = ['1', 'true', 'yes'].includes(process.env.BENCH_QUICK ?? '');
  const cfg: PresenceBenchConfig = {
    quick,
    users: Math.floor(numberFrom('BENCH_PRESENCE_USERS', quick ? 500 : 5000)),
    smallCommunitySize: 20,
    memberListPage: 20,
    randomOthers: 5,
    connectConcurrency: Math.floor(numberFrom('BENCH_CONNECT_CONCURRENCY', 100)),
    loadProcesses: Math.floor(numberFrom('BENCH_LOAD_PROCESSES', 2)),
    quietMs: numberFrom('BENCH_QUIET_MS', 2000),
    settleTimeoutSeconds: numberFrom('BENCH_SETTLE_TIMEOUT_SECONDS', 180),
    idleSeconds: numberFrom('BENCH_IDLE_SECONDS', 20),
    rounds: Math.floor(numberFrom('BENCH_ROUNDS', 1)),
    ackTimeoutMs: numberFrom('BENCH_ACK_TIMEOUT_MS', 15_000),
    unansweredLimit: Math.floor(numberFrom('BENCH_UNANSWERED_LIMIT', 10)),
    connectTimeoutSeconds: numberFrom('BENCH_CONNECT_TIMEOUT_SECONDS', 900),
    seed: Math.floor(numberFrom('BENCH_SEED', 1)),
    nodes: 2,
    cpuProfile: ['1', 'true', 'yes'].includes(process.env.BENCH_CPU_PROFILE ?? ''),
  };
  if (cfg.users < cfg.memberListPage + cfg.randomOthers + 1) {
    throw new Error(`BENCH_PRESENCE_USERS must be at least ${cfg.memberListPage + cfg.randomOthers + 1}`);
  }
  if (cfg.connectConcurrency < cfg.loadProcesses) throw new Error('BENCH_CONNECT_CONCURRENCY must be at least BENCH_LOAD_PROCESSES');
  return cfg;
}
