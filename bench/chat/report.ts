/** Capacity, ratios and the issue's targets from both sides' results; the printed table. */
import type { ChatBenchConfig } from './config.ts';
import type { SideResult, StepResult } from './runSide.ts';

export interface Capacity {
  /** Highest step rate (msg/s) with e2e p99 ≤ threshold, reach exactly 1, no duplicates and no failed acks. */
  msgPerSecond: number | null;
  /** True when no step failed: the real capacity is at least this (the ladder ran out first). */
  boundedByLadder: boolean;
}

const stepPasses = (cfg: ChatBenchConfig, s: StepResult) =>
  s.reach === 1 && s.duplicates === 0 && Object.keys(s.ackErrors).length === 0 && s.e2eMs.p99 <= cfg.p99ThresholdMs;

export function capacityOf(cfg: ChatBenchConfig, side: SideResult): Capacity {
  let best: number | null = null;
  for (const s of side.steps) {
    if (!stepPasses(cfg, s)) break;
    best = s.rate;
  }
  return { msgPerSecond: best, boundedByLadder: side.steps.every((s) => stepPasses(cfg, s)) };
}

const ratio = (a: number | null | undefined, b: number | null | undefined, digits = 2) =>
  a == null || b == null || b === 0 ? null : +(a / b).toFixed(digits);

export function compare(cfg: ChatBenchConfig, baseline: SideResult, edulure: SideResult) {
  const baseCap = capacityOf(cfg, baseline);
  const eduCap = capacityOf(cfg, edulure);
  const baseNominal = baseline.steps.find((s) => s.rate === cfg.nominalRate);
  const eduNominal = edulure.steps.find((s) => s.rate === cfg.nominalRate);
  const capacityRatio = ratio(eduCap.msgPerSecond ?? 0, baseCap.msgPerSecond);
  const p99Limit = baseNominal ? Math.max(2 * baseNominal.e2eMs.p99, baseNominal.e2eMs.p99 + 20) : null;
  const heapRatio = ratio(edulure.heap.heapPerConnectionBytes, baseline.heap.heapPerConnectionBytes);
  const minReach = Math.min(...edulure.steps.map((s) => s.reach));
  const ratios = {
    capacity: capacityRatio,
    p99AtNominal: ratio(eduNominal?.e2eMs.p99, baseNominal?.e2eMs.p99),
    ackP99AtNominal: ratio(eduNominal?.ackMs.p99, baseNominal?.ackMs.p99),
    heapPerConnection: heapRatio,
  };
  const targets = {
    capacity: {
      target: '>= 0.8x baseline capacity at the same p99',
      baselineMsgPerSecond: baseCap.msgPerSecond,
      baselineBoundedByLadder: baseCap.boundedByLadder,
      edulureMsgPerSecond: eduCap.msgPerSecond,
      ratio: capacityRatio,
      // A baseline that never failed has a capacity of at least the top rate: the ratio is then an upper bound.
      met: baseCap.boundedByLadder ? (capacityRatio !== null && capacityRatio < 0.8 ? false : null) : capacityRatio !== null && capacityRatio >= 0.8,
      note: baseCap.boundedByLadder ? 'the baseline never failed a step: its capacity is at least the top rate, so the ratio is an upper bound' : undefined,
    },
    p99AtNominal: {
      target: `p99 at ${cfg.nominalRate} msg/s <= max(2x baseline p99, baseline + 20 ms)`,
      baselineMs: baseNominal?.e2eMs.p99 ?? null,
      edulureMs: eduNominal?.e2eMs.p99 ?? null,
      limitMs: p99Limit,
      met: p99Limit !== null && eduNominal !== undefined && eduNominal.e2eMs.p99 <= p99Limit,
    },
    reach: {
      target: 'exactly 1.000 at every step Edulure ran',
      minimum: minReach,
      duplicates: edulure.steps.reduce((n, s) => n + s.duplicates, 0),
      arrivedOutOfOrder: edulure.steps.reduce((n, s) => n + s.outOfOrder, 0),
      heldBackAtEnd: edulure.steps.at(-1)?.heldBack ?? null,
      met: edulure.steps.every((s) => s.reach === 1 && s.duplicates === 0) && (edulure.steps.at(-1)?.heldBack ?? 0) === 0,
    },
    heapPerConnection: {
      target: `<= 2x baseline at ${edulure.connections.requested} connections`,
      baselineBytes: baseline.heap.heapPerConnectionBytes,
      edulureBytes: edulure.heap.heapPerConnectionBytes,
      ratio: heapRatio,
      ratioIncludingWarmup: ratio(edulure.heap.heapPerConnectionIncludingWarmupBytes, baseline.heap.heapPerConnectionIncludingWarmupBytes),
      met: heapRatio !== null && heapRatio <= 2,
    },
  };
  return { capacity: { baseline: baseCap, edulure: eduCap }, ratios, targets };
}

export function printSteps(sides: SideResult[]) {
  const rows = sides.flatMap((side) =>
    side.steps.map((s) => ({
      side: side.side,
      'msg/s': s.rate,
      sent: s.sent,
      expected: s.expected,
      received: s.received,
      reach: s.reach.toFixed(4),
      'deliv/s': s.deliveriesPerSecond,
      'p50 ms': s.e2eMs.p50,
      'p95 ms': s.e2eMs.p95,
      'p99 ms': s.e2eMs.p99,
      'applied p99': s.appliedMs?.p99 ?? '-',
      'ack p99': s.ackMs.p99,
      'lag p99': s.generatorLagMs.p99,
      'cpu% nodes': s.cpuPercent.servers.join('/'),
      'cpu% pg': s.cpuPercent.postgres ?? '-',
      'cpu% redis': s.cpuPercent.redis,
      'cpu% load': s.cpuPercent.loadGenerators.join('/'),
      'cpu% idle side': s.cpuPercent.idleSide,
      'cpu% softirq': s.cpuPercent.softirq,
      'cpu% other': s.cpuPercent.other,
    })),
  );
  console.table(rows);
  console.table(
    Object.fromEntries(
      sides.map((side) => [
        side.side,
        {
          connections: side.connections.joined,
          'connect s (halves)': side.connections.connectSecondsPerHalf.join(' + '),
          'heap B/conn': side.heap.heapPerConnectionBytes,
          'heap B/conn incl. warm-up': side.heap.heapPerConnectionIncludingWarmupBytes,
          'idle cpu% nodes': side.idleCpuPercent.servers.join('/'),
          'rss B/conn': side.heap.rssPerConnectionBytes,
          stopped: side.stoppedBecause,
        },
      ]),
    ),
  );
}
