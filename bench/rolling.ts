/**
 * `npm run bench:rolling`: a rolling restart under a steady chat load (issue 16), as a drill — not part of `npm test`.
 *
 * The kill drill's setup (bench/chaos/drill.ts): 2 processes of server/main.ts sharing an embedded PostgreSQL and a
 * Redis, BENCH_CONNECTIONS clients (default 5,000, half on each node) that behave as the web client does — apply
 * channel events by seq, catch up with `channel:join {afterSeq}` after a reconnect or a gap, send each message with one
 * clientId until it is acked — and reconnect to the other node when theirs goes.
 *
 * Sequence: warm-up, then BENCH_RATE msg/s (default 200). After BENCH_KILL_AFTER_SECONDS (6) node 1 gets SIGTERM: it
 * stops accepting connections, finishes and acks the sends it holds, tells its clients and closes their connections,
 * and exits; it is started again at once. When every client that moved has caught up (and BENCH_PAUSE_SECONDS more),
 * node 2 gets the same. The load runs on until BENCH_AFTER_KILL_SECONDS after the first SIGTERM, then drain and verify:
 *   - reach over acknowledged messages 1.000 (every acked message applied by every other member of its room),
 *     0 duplicates (applied twice, stored twice, or two acks naming different ids), no gaps, every clientId stored once;
 *   - failed sends (never acked, after the clients' retries), every attempt's refusal by code;
 *   - ack and end-to-end latency during the restarts (first SIGTERM to the last client caught up after the second) and
 *     outside them;
 *   - per restart: how long the node took to exit after SIGTERM against SHUTDOWN_GRACE_MS, its exit code, how many
 *     clients moved and when the last of them had caught up.
 * Exits non-zero when reach, duplicates, gaps, the store, a failed send or a node's exit fails.
 *
 * Prints a summary and writes bench/results/rolling-<date>[-quick][-N].json.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findPostmasterPid, profileServer, sleep, type Managed } from './chat/processes.ts';
import { printProfile, summarizeProfiles } from './chat/profiles.ts';
import { nowMs } from './chat/protocol.ts';
import { distribution } from './chat/stats.ts';
import { loadChaosConfig } from './chaos/config.ts';
import { drainAndCollect, scheduleLoad, setUpDrill, sleepUntil, type Drill } from './chaos/drill.ts';
import { contentionOf, cpuReader, cpuWindow, type CpuWindow } from './chaos/monitor.ts';
import { NODES } from './chaos/plan.ts';
import type { ChaosReport } from './chaos/protocol.ts';
import { verify, type Verdict } from './chaos/verify.ts';
import { numberFrom } from './chat/config.ts';
import { exitWhenDone, resultHeader, sourceState, writeResultFile } from './setup.ts';

const quick = ['1', 'true', 'yes'].includes(process.env.BENCH_QUICK ?? '');
const cfg = loadChaosConfig({ rate: 200, killAfterSeconds: quick ? 3 : 6, afterKillSeconds: quick ? 30 : 60 });
const graceMs = Math.floor(numberFrom('BENCH_SHUTDOWN_GRACE_MS', 25_000));
/** The nodes' SHUTDOWN_HANDOVER_MS; by default the product's (10 s, at most half the grace). */
const handoverMs = process.env.BENCH_SHUTDOWN_HANDOVER_MS ? Math.floor(numberFrom('BENCH_SHUTDOWN_HANDOVER_MS', 5000)) : undefined;
const pauseSeconds = numberFrom('BENCH_PAUSE_SECONDS', cfg.quick ? 2 : 5);
const log = (line: string) => process.stdout.write(`[bench:rolling] ${line}\n`);

interface Restart {
  node: number;
  sigtermAt: number;
  /** SIGTERM to process exit; the node must be gone within SHUTDOWN_GRACE_MS. */
  exitMs: number;
  exitCode: number | null;
  exitSignal: string | null;
  /** SIGTERM to the new process answering /health/ready. */
  readyAgainMs: number;
  /** SIGTERM to every client that lost its connection having caught up (as polled every 200 ms). */
  settledMs: number;
  settleTimedOut: boolean;
}

/** Restarts node `n`: SIGTERM, wait for the exit, start it again, wait until every client that moved caught up. */
async function restart(drill: Drill, n: number): Promise<Restart> {
  const old: Managed = drill.side.servers[n]!;
  const sigtermAt = nowMs();
  old.child.kill('SIGTERM');
  log(`node ${n + 1} (pid ${old.child.pid}) got SIGTERM`);
  const deadline = sleep(graceMs + 5000).then(() => 'late' as const);
  if ((await Promise.race([old.exited.then(() => 'exited' as const), deadline])) === 'late') {
    log(`node ${n + 1} still running ${graceMs + 5000} ms after SIGTERM; killing it`);
    old.child.kill('SIGKILL');
    await old.exited;
  }
  const exitMs = Math.round(nowMs() - sigtermAt);
  log(`node ${n + 1} exited after ${exitMs} ms (code ${old.child.exitCode}, signal ${old.child.signalCode}); starting it again`);
  await drill.side.restart!(n);
  const readyAgainMs = Math.round(nowMs() - sigtermAt);
  log(`node ${n + 1} ready again ${readyAgainMs} ms after SIGTERM`);
  const settleDeadline = sigtermAt + 120_000;
  let settleTimedOut = false;
  let lastLog = nowMs();
  for (;;) {
    await sleep(200);
    const p = await drill.load.progress();
    if (p.recovering === 0 && p.connected === drill.conns.length) break;
    if (nowMs() > settleDeadline) {
      settleTimedOut = true;
      log(`${p.recovering} clients still not caught up after ${((nowMs() - sigtermAt) / 1000).toFixed(1)} s; going on`);
      break;
    }
    if (nowMs() - lastLog > 2000) {
      lastLog = nowMs();
      log(`+${((lastLog - sigtermAt) / 1000).toFixed(1)} s: ${p.recovering} clients not caught up yet, ${p.connected} connected`);
    }
  }
  const settledMs = Math.round(nowMs() - sigtermAt);
  log(`every client caught up ${settledMs} ms after node ${n + 1}'s SIGTERM`);
  return { node: n, sigtermAt, exitMs, exitCode: old.child.exitCode, exitSignal: old.child.signalCode, readyAgainMs, settledMs, settleTimedOut };
}

const ms = (values: number[]) => distribution([Float64Array.from(values)]);

/** The clients that lost their connection during one restart, and how they came back (ms after its SIGTERM). */
function movedBy(reports: ChaosReport[], r: Restart) {
  const from = r.sigtermAt - 50;
  const until = r.sigtermAt + r.settledMs;
  const recoveries = reports.flatMap((rep) => rep.recoveries).filter((rec) => rec.lostAt >= from && rec.lostAt <= until);
  const byConn = new Map<number, typeof recoveries>();
  for (const rec of recoveries) byConn.set(rec.conn, [...(byConn.get(rec.conn) ?? []), rec]);
  const after = (values: number[]) => values.filter(Number.isFinite).map((v) => v - r.sigtermAt);
  const firstOf = (list: typeof recoveries, key: 'reconnectedAt' | 'caughtUpAt') => Math.min(...list.map((x) => x[key]).filter((v) => !Number.isNaN(v)));
  const caughtUp = after([...byConn.values()].map((l) => firstOf(l, 'caughtUpAt')));
  // Each client's own time away: from losing its connection to having caught up on the other node.
  const away = [...byConn.values()].map((l) => firstOf(l, 'caughtUpAt') - l[0]!.lostAt).filter(Number.isFinite);
  return {
    clients: byConn.size,
    fromRestartedNode: [...byConn.values()].filter((l) => l[0]!.fromNode === r.node).length,
    lostMs: ms(after([...byConn.values()].map((l) => l[0]!.lostAt))),
    reconnectedMs: ms(after([...byConn.values()].map((l) => firstOf(l, 'reconnectedAt')))),
    caughtUpMs: ms(caughtUp),
    awayMs: ms(away),
    notCaughtUp: byConn.size - caughtUp.length,
    lastCaughtUpMs: caughtUp.length ? Math.round(Math.max(...caughtUp)) : null,
    connectAttempts: ms([...byConn.values()].map((l) => l.reduce((n, x) => n + x.connectAttempts, 0))),
  };
}

type Dist = { count: number; p50: number; p95: number; p99: number; max: number };
const d = (x: Dist) => (x.count ? `p50 ${x.p50} / p99 ${x.p99} / max ${x.max}` : '–');

function printSummary(verdict: Verdict, restarts: Restart[], moved: ReturnType<typeof movedBy>[], cpu: Record<string, CpuWindow>) {
  const { sends, delivery, gaps, store, latency } = verdict;
  const line = (label: string, text: string) => console.log(`${label.padEnd(10)} ${text}`);
  console.log(
    `\nRolling restart: ${cfg.connections} clients (${cfg.connections / NODES} per node at the start), rooms of ${cfg.roomSize}, ${cfg.rate} msg/s; ` +
      `node 1 then node 2 SIGTERMed and started again, SHUTDOWN_GRACE_MS ${graceMs}`,
  );
  line(
    'sends',
    `scheduled ${sends.scheduled}, acked ${sends.acked}, failed ${sends.failedAfterRetries} ${JSON.stringify(sends.failures)}; ` +
      `retries ${sends.retries} (${sends.sendsRetried} sends; attempt outcomes ${JSON.stringify(sends.sendErrors)})`,
  );
  line(
    'delivery',
    `over acked: expected ${delivery.expected}, delivered ${delivery.delivered}, reach ${delivery.delivered === delivery.expected ? '1.000' : delivery.reach.toFixed(6)}, ` +
      `duplicates ${delivery.duplicates} ${JSON.stringify(delivery.duplicateBreakdown)}; by path ${JSON.stringify(delivery.deliveriesByPath)}`,
  );
  line('gaps', `clients behind at the end ${gaps.clientsBehind} (${gaps.heldAtEnd} held), event-log gaps ${gaps.eventLogGaps}`);
  line('store', `stored ${store.storedMessages}, clientIds stored more than once ${store.storedMoreThanOnce}, acked but missing ${store.ackedMissing}`);
  restarts.forEach((r, k) => {
    const m = moved[k]!;
    line(
      `node ${r.node + 1}`,
      `exited ${r.exitMs} ms after SIGTERM (code ${r.exitCode}${r.exitSignal ? `, ${r.exitSignal}` : ''}), ready again at ${r.readyAgainMs} ms; ` +
        `${m.clients} clients moved (${m.fromRestartedNode} from it), reconnected ${d(m.reconnectedMs)}, caught up ${d(m.caughtUpMs)} ms after SIGTERM; ` +
        `each client away ${d(m.awayMs)} ms`,
    );
  });
  console.table(
    Object.fromEntries(
      (['before', 'during', 'after'] as const).map((w) => {
        const l = latency[w];
        return [w, { 'acked deliveries': l.e2eMs.count, 'e2e p50': l.e2eMs.p50, 'e2e p99': l.e2eMs.p99, 'e2e max': l.e2eMs.max, 'ack p50': l.ackMs.p50, 'ack p99': l.ackMs.p99 }];
      }),
    ),
  );
  console.table(
    Object.fromEntries(
      Object.entries(cpu).map(([w, c]) => [
        w,
        { s: c.seconds, 'node 1 %': c.servers[0], 'node 2 %': c.servers[1], 'PostgreSQL %': c.postgres, 'Redis %': c.redis, 'load %': c.loadGenerators.join('/'), 'other %': c.other },
      ]),
    ),
  );
}

async function main(): Promise<boolean> {
  const started = Date.now();
  const source = sourceState();
  const loadAverageAtStart = os.loadavg().map((v) => +v.toFixed(2));
  let drill: Drill | undefined;
  try {
    log(
      `${cfg.connections} clients, rooms of ${cfg.roomSize}, warm-up ${cfg.warmupRate} msg/s for ${cfg.warmupSeconds} s, then ${cfg.rate} msg/s; ` +
        `node 1 restarted after ${cfg.killAfterSeconds} s of it, then node 2; ${cfg.afterKillSeconds} s of load from the first SIGTERM`,
    );
    drill = await setUpDrill(cfg, { name: 'rolling', log, serverEnv: { SHUTDOWN_GRACE_MS: String(graceMs), ...(handoverMs !== undefined ? { SHUTDOWN_HANDOVER_MS: String(handoverMs) } : {}) }});
    const { side, loaders, redis } = drill;
    const cpuSources = { servers: side.servers, loaders, postmasterPid: findPostmasterPid(), redis, redisIsOurs: !process.env.REDIS_URL };
    const { plan, giveUpAt } = await scheduleLoad(cfg, drill, log);

    await sleepUntil(plan.loadStartAt);
    // CPU only where the same processes run throughout: before the first SIGTERM, and after the second restart.
    let readCpu = cpuReader(cpuSources);
    const atLoadStart = await readCpu();
    await sleepUntil(plan.killAt);
    const atFirstSigterm = await readCpu();
    const restarts: Restart[] = [];
    // BENCH_CPU_PROFILE=1: a CPU profile of node 2 while it takes node 1's clients over (diagnosis, not the record).
    const profileDir = cfg.cpuProfile ? await mkdtemp(path.join(os.tmpdir(), 'edulure-rolling-profile-')) : undefined;
    for (let n = 0; n < NODES; n++) {
      if (n > 0) await sleep(pauseSeconds * 1000);
      if (profileDir && n === 0) await profileServer(side.servers[1]!, 'start');
      restarts.push(await restart(drill, n));
      if (profileDir && n === 0) await profileServer(side.servers[1]!, 'stop', path.join(profileDir, 'node-2-takeover.cpuprofile'));
    }
    const profile = profileDir ? (await summarizeProfiles(profileDir))[0] : undefined;
    const last = restarts.at(-1)!;
    const restartsEndAt = last.sigtermAt + last.settledMs;
    if (restartsEndAt > plan.endAt) log(`the restarts outlasted the load by ${((restartsEndAt - plan.endAt) / 1000).toFixed(1)} s`);
    readCpu = cpuReader(cpuSources);
    const atRestartsEnd = await readCpu();
    await sleepUntil(plan.endAt);
    const atLoadEnd = await readCpu();

    const { reports, finals, stored, drainSeconds } = await drainAndCollect(cfg, drill, { endAt: plan.endAt, giveUpAt }, log);
    const verdict = verify({
      plan,
      roomSize: cfg.roomSize,
      channelIds: drill.channelIds,
      userIds: drill.userIds,
      reports,
      finals,
      stored,
      // "during": from the first SIGTERM until the last client caught up after the second restart.
      marks: { loadStartAt: plan.loadStartAt, killAt: restarts[0]!.sigtermAt, stormEndAt: restartsEndAt },
      catchUpBudgetMs: 2 * 60_000,
      killedNodeClients: cfg.connections / NODES,
    });
    const moved = restarts.map((r) => movedBy(reports, r));
    const cpu: Record<string, CpuWindow> = {
      beforeRestarts: cpuWindow(atLoadStart, atFirstSigterm, !process.env.REDIS_URL),
      ...(atLoadEnd.at - atRestartsEnd.at >= 1000 ? { afterRestarts: cpuWindow(atRestartsEnd, atLoadEnd, !process.env.REDIS_URL) } : {}),
    };
    printSummary(verdict, restarts, moved, cpu);
    if (profile) printProfile('node 2 taking node 1\'s clients over', profile);

    const exitsClean = restarts.every((r) => r.exitCode === 0 && r.exitMs <= graceMs);
    const noFailedSends = verdict.sends.failedAfterRetries === 0;
    const passed = verdict.passed && noFailedSends && exitsClean && restarts.every((r) => !r.settleTimedOut);
    const header = resultHeader({ benchmark: 'rolling-restart-under-load', script: 'bench:rolling', contention: contentionOf(cpu, log), loadAverageAtStart, source });
    const result = {
      ...header,
      config: {
        ...cfg,
        nodes: NODES,
        shutdownGraceMs: graceMs,
        shutdownHandoverMs: Math.min(handoverMs ?? 10_000, graceMs / 2),
        pauseBetweenRestartsSeconds: pauseSeconds,
        definitions: {
          reach: 'over acked messages: members other than the sender that applied the message, over (room members − 1) per acked message',
          duplicate: 'a member applying one message at two distinct seqs, two acks naming different ids, or a second stored row per (author, clientId)',
          failedSend: 'a scheduled message never acked: refused for good, or still unacked at the give-up time (after retries with its clientId)',
          during: 'sends scheduled from the first SIGTERM until every client had caught up after the second restart',
          latency: 'e2e: first receipt at each member − scheduled send time; ack: ack received − scheduled send time',
        },
      },
      connectSeconds: drill.connectSeconds,
      targets: {
        met: passed,
        reachOverAcked: verdict.delivery.reach,
        duplicates: verdict.delivery.duplicates,
        failedSends: verdict.sends.failedAfterRetries,
        duringRestartP99Ms: { ack: verdict.latency.during.ackMs.p99, e2e: verdict.latency.during.e2eMs.p99 },
        nodesExitedWithinGrace: exitsClean,
      },
      restarts: restarts.map((r, k) => ({ ...r, sigtermAtMsAfterLoadStart: Math.round(r.sigtermAt - plan.loadStartAt), moved: moved[k] })),
      timeline: { restartsMs: Math.round(restartsEndAt - restarts[0]!.sigtermAt), drainSecondsAfterLastSend: drainSeconds },
      checks: { ...verdict.checks, noFailedSends, exitsClean },
      sends: verdict.sends,
      delivery: verdict.delivery,
      gaps: verdict.gaps,
      store: verdict.store,
      latency: { before: verdict.latency.before, during: verdict.latency.during, after: verdict.latency.after },
      client: verdict.client,
      cpuPercent: cpu,
      ...(profile ? { node2TakeoverProfile: profile, note: 'profiled run (BENCH_CPU_PROFILE): profiling slows node 2; for diagnosis, not the record' } : {}),
      seconds: Math.round((Date.now() - started) / 1000),
    };
    const file = await writeResultFile(`rolling-${header.date.slice(0, 10)}${cfg.quick ? '-quick' : ''}${profile ? '-profiled' : ''}`, result);
    log(`written ${path.relative(process.cwd(), file)} after ${result.seconds} s`);
    log(`${passed ? 'MET' : 'NOT MET'} — ${JSON.stringify(result.checks)}`);
    return passed;
  } finally {
    await drill?.cleanup();
  }
}

exitWhenDone('bench:rolling', main());
