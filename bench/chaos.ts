/**
 * `npm run bench:chaos`: a node killed under load (issue 15, targets 5 and 4), as a drill — not part of `npm test`.
 *
 * Edulure as the chat bench runs it (bench/chat.ts): 2 processes of server/main.ts sharing an embedded PostgreSQL
 * and a Redis, BENCH_CONNECTIONS clients (default 5,000, half on each node; rooms of 20 with 10 members per node)
 * driven by load-generator processes of their own (bench/chaos/loadClient.ts). The clients behave as the web client
 * does: apply channel events by seq, catch up with `channel:join {afterSeq}` on a gap or a reconnect, send each
 * message with one clientId until it is acked; they know both nodes and reconnect to the other one.
 *
 * Sequence: warm-up, steady load at BENCH_RATE msg/s (default 400), SIGKILL of node 2 after BENCH_KILL_AFTER_SECONDS,
 * BENCH_AFTER_KILL_SECONDS more of the load, then drain and verify:
 *   - target 5: every acked message applied exactly once by every other member of its room (reach over acked 1, no
 *     duplicates), every client at its channel's last seq (no gaps), every clientId stored once and every acked id
 *     stored — the drill exits non-zero otherwise;
 *   - target 4: for the clients that lost their node, time from the kill to rejoined and caught up (all within
 *     BENCH_CATCH_UP_BUDGET_SECONDS, default 10), PostgreSQL and node 1 CPU during the storm, and the channel_events
 *     reads PostgreSQL ran for their catch-up (pg_stat_statements, reset at the kill).
 *
 * Prints a summary and writes bench/results/chaos-<date>[-quick][-N].json.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findPostmasterPid, profileServer, sleep } from './chat/processes.ts';
import { printProfile, summarizeProfiles, type ProfileSummary } from './chat/profiles.ts';
import { nowMs } from './chat/protocol.ts';
import { loadChaosConfig } from './chaos/config.ts';
import { drainAndCollect, scheduleLoad, setUpDrill, sleepUntil, type Drill } from './chaos/drill.ts';
import { contentionOf, cpuReader, cpuWindow, summarizeStatements, type CpuReading } from './chaos/monitor.ts';
import { NODES } from './chaos/plan.ts';
import { printReport, targetsOf } from './chaos/report.ts';
import { verify } from './chaos/verify.ts';
import { exitWhenDone, resultHeader, sourceState, writeResultFile } from './setup.ts';

const cfg = loadChaosConfig();
const log = (line: string) => process.stdout.write(`[bench:chaos] ${line}\n`);

async function main(): Promise<boolean> {
  const started = Date.now();
  const source = sourceState();
  const loadAverageAtStart = os.loadavg().map((v) => +v.toFixed(2));
  let drill: Drill | undefined;
  try {
    log(
      `${cfg.connections} clients, rooms of ${cfg.roomSize}, warm-up ${cfg.warmupRate} msg/s for ${cfg.warmupSeconds} s, then ${cfg.rate} msg/s; ` +
        `node 2 killed after ${cfg.killAfterSeconds} s of it, ${cfg.afterKillSeconds} s more`,
    );
    drill = await setUpDrill(cfg, { name: 'chaos', log });
    const { side, load, conns, stats, redis, loaders, connectSeconds } = drill;

    const readCpu = cpuReader({ servers: side.servers, loaders, postmasterPid: findPostmasterPid(), redis, redisIsOurs: !process.env.REDIS_URL });
    const { plan, giveUpAt } = await scheduleLoad(cfg, drill, log);

    await sleepUntil(plan.loadStartAt);
    const atLoadStart = await readCpu();
    await sleepUntil(plan.killAt);
    const beforeKill = await load.progress();
    log(`before the kill: ${beforeKill.sent} sent, ${beforeKill.acked} acked, ${beforeKill.unsettled} unsettled, ${beforeKill.connected} connected`);

    // The storm: pg_stat_statements counts from here; node 2 dies; its clients reconnect to node 1 and catch up.
    const survivor = side.servers[0]!;
    const profileDir = cfg.cpuProfile ? await mkdtemp(path.join(os.tmpdir(), 'edulure-chaos-profile-')) : undefined;
    if (profileDir) await profileServer(survivor, 'start');
    await stats.reset();
    const atKill = await readCpu();
    const victim = side.servers[1]!;
    const killAt = nowMs();
    victim.child.kill('SIGKILL');
    const killedNodeClients = conns.filter((c) => c.node === 1).length;
    log(`node 2 (pid ${victim.child.pid}) killed; ${killedNodeClients} clients were on it`);
    const stormDeadline = killAt + Math.max(30_000, 3 * cfg.catchUpBudgetSeconds * 1000);
    let stormTimedOut = false;
    let lastLog = killAt;
    // Whether the load generators kept up while thousands of their clients reconnected at once (each progress report
    // covers the time since the previous one, the first since just before the kill).
    let generatorLoopDelayMaxMs = 0;
    for (;;) {
      await sleep(200);
      const p = await load.progress();
      generatorLoopDelayMaxMs = Math.max(generatorLoopDelayMaxMs, p.loopDelayMaxMs);
      if (p.lostConnection >= killedNodeClients && p.recovering === 0) break;
      if (nowMs() > stormDeadline) {
        stormTimedOut = true;
        log(`storm: ${p.recovering} clients still not caught up after ${((nowMs() - killAt) / 1000).toFixed(1)} s; going on`);
        break;
      }
      if (nowMs() - lastLog > 2000) {
        lastLog = nowMs();
        log(`storm +${((lastLog - killAt) / 1000).toFixed(1)} s: ${p.lostConnection} lost their node, ${p.recovering} not caught up yet, ${p.connected} connected`);
      }
    }
    const atStormEnd = await readCpu();
    const stormEndAt = atStormEnd.at;
    const stormStatements = await stats.snapshot();
    if (profileDir) await profileServer(survivor, 'stop', path.join(profileDir, 'node-1-storm.cpuprofile'));
    log(`storm over ${((stormEndAt - killAt) / 1000).toFixed(1)} s after the kill; load generators' event loops lagged up to ${generatorLoopDelayMaxMs} ms`);

    await sleepUntil(plan.endAt);
    const atLoadEnd = await readCpu();
    const afterKillStatements = await stats.snapshot();

    const { reports, finals, stored, drainSeconds } = await drainAndCollect(cfg, drill, { endAt: plan.endAt, giveUpAt }, log);

    const verdict = verify({
      plan,
      roomSize: cfg.roomSize,
      channelIds: drill.channelIds,
      userIds: drill.userIds,
      reports,
      finals,
      stored,
      marks: { loadStartAt: plan.loadStartAt, killAt, stormEndAt },
      catchUpBudgetMs: cfg.catchUpBudgetSeconds * 1000,
      killedNodeClients,
    });
    const window = (a: CpuReading, b: CpuReading) => cpuWindow(a, b, !process.env.REDIS_URL);
    // A storm that outlasts the load leaves no after-storm window worth the name.
    const cpu = {
      beforeKill: window(atLoadStart, atKill),
      storm: window(atKill, atStormEnd),
      ...(atLoadEnd.at - atStormEnd.at >= 1000 ? { afterStorm: window(atStormEnd, atLoadEnd) } : {}),
    };
    const statements = { storm: summarizeStatements(stormStatements), afterKill: summarizeStatements(afterKillStatements) };
    printReport(cfg, verdict, cpu, statements);
    let profile: ProfileSummary | undefined;
    if (profileDir) {
      profile = (await summarizeProfiles(profileDir))[0];
      if (profile) printProfile('node 1 during the storm', profile);
    }

    const header = resultHeader({ benchmark: 'chaos-kill-under-load', script: 'bench:chaos', contention: contentionOf(cpu, log), loadAverageAtStart, source });
    const result = {
      ...header,
      config: {
        ...cfg,
        nodes: NODES,
        rooms: cfg.connections / cfg.roomSize,
        definitions: {
          reach: 'over acked messages: members other than the sender that applied the message, over (room members − 1) per acked message',
          duplicate: 'a member applying one message at two distinct seqs, two acks naming different ids, or a second stored row per (author, clientId)',
          gap: "a client whose last applied seq is below its channel's last_seq once the drain settled, or with events still held",
          caughtUp: 'lastApplied reached the lastSeq of the first successful rejoin after the reconnect (or a higher live seq seen by then)',
          latency: 'e2e: first receipt at each member − scheduled send time; applied: when the member could apply it in seq order; windows by scheduled time',
          stormWindow: 'from the SIGKILL until every client that lost its node had caught up (as polled, every 200 ms)',
        },
      },
      connectSeconds,
      timeline: {
        killAtMsAfterLoadStart: Math.round(killAt - plan.loadStartAt),
        stormMs: Math.round(stormEndAt - killAt),
        stormTimedOut,
        generatorLoopDelayMaxMsInStorm: generatorLoopDelayMaxMs,
        drainSecondsAfterLastSend: drainSeconds,
      },
      targets: targetsOf(verdict),
      ...verdict,
      cpuPercent: cpu,
      postgres: statements,
      ...(profile ? { node1StormProfile: profile, note: 'profiled run (BENCH_CPU_PROFILE): profiling slows node 1; for diagnosis, not the record' } : {}),
      seconds: Math.round((Date.now() - started) / 1000),
    };
    const file = await writeResultFile(`chaos-${header.date.slice(0, 10)}${cfg.quick ? '-quick' : ''}${profileDir ? '-profiled' : ''}`, result);
    log(`written ${path.relative(process.cwd(), file)} after ${result.seconds} s`);
    if (!verdict.passed) log(`FAILED: ${JSON.stringify(verdict.checks)}`);
    return verdict.passed;
  } finally {
    await drill?.cleanup();
  }
}

exitWhenDone('bench:chaos', main());
