/** The presence bench's table and the targets, from every scenario run. */
import type { PresenceBenchConfig } from './config.ts';
import type { ScenarioResult } from './runScenario.ts';
import type { ScenarioName } from './scenarios.ts';

const median = (values: number[]) => {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : +(a / b).toFixed(2));
const watchFailed = (r: ScenarioResult) => r.connect.watched < r.users;

export function printTable(results: ScenarioResult[]) {
  console.table(
    results.map((r) => ({
      scenario: r.scenario,
      round: r.round + 1,
      users: r.users,
      'connect+watch s': +(r.connect.connectedAndWatchedMs / 1000).toFixed(2),
      'settled s': r.settle.settled ? +(r.settle.settledAfterMs / 1000).toFixed(2) : 'no',
      watching: r.connect.watched,
      'updates/client': r.deliveries.mean,
      'max/client': r.deliveries.perClient.max,
      'repeats/client': +(r.deliveries.repeats / r.users).toFixed(2),
      leaked: r.deliveries.leaked + r.deliveries.ackExtras,
      'not shown online': r.deliveries.notShownOnline,
      'watch ack p99 ms': r.connect.watchAckMs.p99,
      'idle cpu% nodes': r.idle.cpuPercent.servers.join(' / '),
      'idle cpu% pg': r.idle.cpuPercent.postgres,
      'idle cpu% redis': r.idle.cpuPercent.redis,
      'other cpu% (connect)': r.connectCpuPercent.other,
    })),
  );
}

export function evaluate(cfg: PresenceBenchConfig, results: ScenarioResult[]) {
  const of = (name: ScenarioName) => results.filter((r) => r.scenario === name);
  const connectMs = (name: ScenarioName) => median(of(name).map((r) => r.connect.connectedAndWatchedMs));
  const settleMs = (name: ScenarioName) => median(of(name).map((r) => r.settle.settledAfterMs));
  const connectRatio = ratio(connectMs('one-community'), connectMs('communities-of-20'));
  const watchIncomplete = results.some(watchFailed);
  const leaks = results.reduce((n, r) => n + r.deliveries.leaked + r.deliveries.ackExtras, 0);
  const idleMax = Math.max(...results.flatMap((r) => r.idle.cpuPercent.servers));
  const notShown = results.reduce((n, r) => n + r.deliveries.notShownOnline, 0);
  const unsettled = results.filter((r) => !r.settle.settled).length;
  const ratios = {
    connectOneCommunityOverCommunitiesOf20: connectRatio,
    settleOneCommunityOverCommunitiesOf20: ratio(settleMs('one-community'), settleMs('communities-of-20')),
    updatesPerClientOneCommunityOverCommunitiesOf20: ratio(
      median(of('one-community').map((r) => r.deliveries.mean)),
      median(of('communities-of-20').map((r) => r.deliveries.mean)),
    ),
  };
  const targets = {
    connectTime: {
      target: `connecting ${cfg.users} members of one community takes <= 1.5x the time of ${cfg.users} users in communities of 20`,
      oneCommunityMs: connectMs('one-community'),
      communitiesOf20Ms: connectMs('communities-of-20'),
      ratio: connectRatio,
      // Without answered watches the clients did not do what the issue describes: the figure says nothing about it.
      met: watchIncomplete || connectRatio === null ? null : connectRatio <= 1.5,
      ...(watchIncomplete ? { note: 'some presence:watch calls failed or were not sent: the connect times do not include watching' } : {}),
    },
    noLeaks: {
      target: 'no client receives presence for people it does not show (updates and watch acks about people it neither watches nor is)',
      leaked: leaks,
      met: leaks === 0,
    },
    idleCpu: {
      target: `idle CPU with ${cfg.users} connected, silent clients <= 1 % per node`,
      maxPercentPerNode: idleMax,
      perScenario: Object.fromEntries(results.map((r) => [`${r.scenario}#${r.round + 1}`, r.idle.cpuPercent.servers])),
      met: idleMax <= 1,
    },
    // Not an issue target: a server that sent nothing at all would pass the leak check; this one it would fail.
    everyoneShownOnline: {
      target: 'once settled, every client shows each person it watches as online (everyone is connected)',
      pairsNotShownOnline: notShown,
      unsettledScenarios: unsettled,
      met: !watchIncomplete && notShown === 0 && unsettled === 0,
    },
  };
  return { ratios, targets };
}
