/** The drill's printed summary: the checks of target 5, the storm figures of target 4, latency and CPU by window. */
import type { ChaosConfig } from './config.ts';
import type { CpuWindow, summarizeStatements } from './monitor.ts';
import type { Verdict } from './verify.ts';

type Dist = { count: number; p50: number; p95: number; p99: number; max: number };
const d = (x: Dist) => (x.count ? `p50 ${x.p50} / p99 ${x.p99} / max ${x.max}` : '–');
const yes = (ok: boolean) => (ok ? 'MET' : 'NOT MET');

export function targetsOf(verdict: Verdict) {
  const s = verdict.storm;
  return {
    killUnderLoad: {
      met: verdict.passed,
      reachOverAcked: verdict.delivery.reach,
      duplicates: verdict.delivery.duplicates,
      clientsWithGaps: verdict.gaps.clientsBehind,
      clientIdsStoredMoreThanOnce: verdict.store.storedMoreThanOnce,
    },
    catchUpStorm: {
      met: s.allCaughtUpWithinBudget,
      reconnectingClients: s.reconnectingClients,
      lastCaughtUpMs: s.lastCaughtUpMs,
      budgetMs: s.budgetMs,
    },
  };
}

export function printReport(
  cfg: ChaosConfig,
  verdict: Verdict,
  cpu: Record<string, CpuWindow>,
  statements: { storm: ReturnType<typeof summarizeStatements>; afterKill: ReturnType<typeof summarizeStatements> },
) {
  const { sends, delivery, gaps, store, storm, latency } = verdict;
  const line = (label: string, text: string) => console.log(`${label.padEnd(10)} ${text}`);
  console.log(
    `\nKill drill: ${cfg.connections} clients (${cfg.connections / 2} per node), rooms of ${cfg.roomSize}, ${cfg.rate} msg/s; ` +
      `node 2 SIGKILLed ${cfg.killAfterSeconds} s into the load, ${cfg.afterKillSeconds} s more of it`,
  );
  line(
    'sends',
    `sent ${sends.attempted} (of ${sends.scheduled} scheduled), acked ${sends.acked}, failed after retries ${sends.failedAfterRetries} ${JSON.stringify(sends.failures)}, ` +
      `retries ${sends.retries} (${sends.sendsRetried} sends retried; attempt outcomes ${JSON.stringify(sends.sendErrors)})`,
  );
  line(
    'delivery',
    `over acked: expected ${delivery.expected}, delivered ${delivery.delivered}, reach ${delivery.delivered === delivery.expected ? '1.000' : delivery.reach.toFixed(6)}, duplicates ${delivery.duplicates} ` +
      `${JSON.stringify(delivery.duplicateBreakdown)}; unacked but delivered ${delivery.unackedButDelivered}; by path ${JSON.stringify(delivery.deliveriesByPath)}`,
  );
  line(
    'gaps',
    `clients behind their channel's last seq at the end ${gaps.clientsBehind} (${gaps.missingEvents} events, ${gaps.heldAtEnd} held); ` +
      `a final catch-up applied ${gaps.closedByFinalCatchUp} events (${gaps.ackedMessagesOnlyInFinalCatchUp} acked messages), behind after it ${gaps.clientsBehindAfterFinalCatchUp}; ` +
      `event-log gaps ${gaps.eventLogGaps}`,
  );
  line(
    'store',
    `stored ${store.storedMessages}, clientIds stored more than once ${store.storedMoreThanOnce} (table-wide extra copies ${store.extraCopiesInTable}), ` +
      `acked but missing ${store.ackedMissing}, acked id differs ${store.ackedIdDiffers}, unacked but stored ${store.storedUnacked}; ` +
      `retried sends already stored before the kill (answered with the original) ${store.retriedStoredBeforeKill}`,
  );
  line(
    'storm',
    `${storm.reconnectingClients} clients reconnected (${storm.killedNodeClients} were on node 2, ${storm.fromSurvivingNode} from node 1) over ${storm.channelsAffected} channels; ` +
      `ms from the kill — reconnected ${d(storm.reconnectedMs)}; rejoined ${d(storm.rejoinedMs)}; caught up ${d(storm.caughtUpMs)}; ` +
      `per client, the successful handshake took ${d(storm.handshakeMs)} ms and the rejoin after it ${d(storm.rejoinAfterReconnectMs)} ms; not caught up ${storm.notCaughtUp}; connect attempts ${d(storm.connectAttempts)}`,
  );
  line(
    'catch-up',
    `${statements.storm.catchUpQueries} channel_events reads in PostgreSQL (${statements.storm.catchUpRows} rows, ${statements.storm.catchUpMs} ms) for ` +
      `${storm.catchUpJoinsInStorm} catch-up joins from the kill until the last client caught up; ${statements.afterKill.catchUpQueries} from the kill to the load's end`,
  );
  console.table(
    Object.fromEntries(
      Object.entries(latency).map(([w, l]) => [
        w,
        { 'acked deliveries': l.e2eMs.count, 'e2e p50': l.e2eMs.p50, 'e2e p99': l.e2eMs.p99, 'e2e max': l.e2eMs.max, 'applied p99': l.appliedMs.p99, 'ack p99': l.ackMs.p99 },
      ]),
    ),
  );
  console.table(
    Object.fromEntries(
      Object.entries(cpu).map(([w, c]) => [
        w,
         { s: c.seconds, 'node 1 %': c.servers[0], 'node 2 %': c.servers[1], 'node 1 loop busy': c.eventLoopUtilization[0], 'PostgreSQL %': c.postgres, 'Redis %': c.redis, 'load %': c.loadGenerators.join('/'), 'softirq %': c.softirq, 'other %': c.other },
      ]),
    ),
  );
  const targets = targetsOf(verdict);
  console.log(`target 5 (kill under load): ${yes(targets.killUnderLoad.met)} —`, JSON.stringify(verdict.checks));
  console.log(
    `target 4 (catch-up storm ≤ ${storm.budgetMs / 1000} s): ${yes(targets.catchUpStorm.met)} — last client caught up ${storm.lastCaughtUpMs ?? '–'} ms after the kill` +
      `, PostgreSQL ${cpu.storm?.postgres ?? '–'}% and node 1 ${cpu.storm?.servers[0] ?? '–'}% of a core during the storm`,
  );
}
