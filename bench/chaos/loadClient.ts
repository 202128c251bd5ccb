/**
 * One load-generator process of the kill drill (forked by bench/chaos.ts, never sharing an event loop with a server).
 * It opens its share of the clients (bench/chaos/client.ts: failover, catch-up, retries as the web client does them),
 * sends the whole run's schedule open-loop, and at the end reports every delivery, send and recovery.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { nowMs } from '../chat/protocol.ts';
import { ChaosClient, type ClientEnv } from './client.ts';
import { Ledger, type SendState } from './ledger.ts';
import type { ChaosProgress, ChaosReport, FromChaosClient, ToChaosClient } from './protocol.ts';

const reply = (msg: FromChaosClient) => process.send!(msg);
const clients = new Map<number, ChaosClient>();
let ledger = new Ledger(1);
let giveUpAt = Infinity;
/** The run's sends of this process's clients, in schedule order; the first `due` of them have been handed over. */
let sends: SendState[] = [];
let due = 0;
let pumpTimer: NodeJS.Timeout | undefined;
let giveUpTimer: NodeJS.Timeout | undefined;
const cpuStart = process.cpuUsage();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

/** Runs `task` over `items` with at most `concurrency` in flight. */
async function pool<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

async function init(msg: Extract<ToChaosClient, { type: 'init' }>) {
  ledger = new Ledger(msg.roomSize);
  const env: ClientEnv = { urls: msg.urls, ackTimeoutMs: msg.ackTimeoutMs, gapGraceMs: msg.gapGraceMs, ledger, giveUpAt: () => giveUpAt };
  const started = Date.now();
  const failures: string[] = [];
  let joined = 0;
  await pool(msg.conns, msg.connectConcurrency, async (spec) => {
    const client = new ChaosClient(spec, env);
    clients.set(spec.index, client);
    try {
      await client.start();
      joined++;
    } catch (err) {
      failures.push(String((err as Error).message ?? err));
    }
  });
  const connected = [...clients.values()].filter((c) => c.connected).length;
  reply({ type: 'ready', connected, joined, failures: failures.slice(0, 20), connectMs: Date.now() - started });
}

function schedule(msg: Extract<ToChaosClient, { type: 'schedule' }>) {
  ledger.sized(msg.totalMessages);
  giveUpAt = msg.giveUpAt;
  sends = [...msg.sends]
    .sort((a, b) => a.at - b.at)
    .map((s) => ({ m: s.m, conn: s.conn, at: s.at, attempts: 0, onWire: 0, ackedAt: NaN, messageId: null, seq: -1, failure: null }));
  due = 0;
  const pump = () => {
    const now = nowMs();
    while (due < sends.length && sends[due]!.at <= now) {
      const s = sends[due++]!;
      const client = clients.get(s.conn);
      if (client) client.send(s);
      else s.failure = 'no_client';
    }
    if (due < sends.length) pumpTimer = setTimeout(pump, Math.max(0, sends[due]!.at - nowMs()));
  };
  pump();
  giveUpTimer = setTimeout(() => {
    for (const client of clients.values()) client.giveUp();
  }, Math.max(0, giveUpAt - nowMs()));
  reply({ type: 'scheduled' });
}

function progress(id: number): ChaosProgress {
  let acked = 0;
  let failed = 0;
  for (let i = 0; i < due; i++) {
    const s = sends[i]!;
    if (!Number.isNaN(s.ackedAt)) acked++;
    else if (s.failure) failed++;
  }
  let connected = 0;
  let lostConnection = 0;
  let recovering = 0;
  let held = 0;
  let syncing = 0;
  for (const c of clients.values()) {
    if (c.connected) connected++;
    if (c.recovery) lostConnection++;
    if (c.recovering) recovering++;
    held += c.held.size;
    if (c.syncing) syncing++;
  }
  return {
    type: 'progress',
    id,
    connected,
    sent: due,
    acked,
    failed,
    unsettled: due - acked - failed,
    lostConnection,
    recovering,
    held,
    syncing,
    applied: ledger.applied,
    loopDelayMaxMs: loopDelayMaxMs(),
  };
}

function loopDelayMaxMs(): number {
  const max = loopDelay.max / 1e6;
  loopDelay.reset();
  return +max.toFixed(1);
}

function clientStates() {
  const list = [...clients.values()];
  return {
    conn: Int32Array.from(list, (c) => c.spec.index),
    lastApplied: Int32Array.from(list, (c) => c.lastApplied),
    held: Int32Array.from(list, (c) => c.held.size),
  };
}

function collect(): ChaosReport {
  clearTimeout(pumpTimer);
  const cpu = process.cpuUsage(cpuStart);
  return {
    type: 'collected',
    seen: ledger.seen,
    deliveries: {
      m: ledger.deliveries.m.toArray(),
      position: ledger.deliveries.position.toArray(),
      receivedAt: ledger.deliveries.receivedAt.toArray(),
      appliedAt: ledger.deliveries.appliedAt.toArray(),
    },
    deliveriesByPath: { ...ledger.deliveriesByPath },
    echoes: ledger.echoes,
    overlaps: ledger.overlaps,
    outOfOrder: ledger.outOfOrder,
    sends: {
      m: Int32Array.from(sends, (s) => s.m),
      attempts: Int32Array.from(sends, (s) => s.attempts),
      ackedAt: Float64Array.from(sends, (s) => s.ackedAt),
      seq: Int32Array.from(sends, (s) => s.seq),
      messageIds: sends.map((s) => s.messageId),
      failures: sends.map((s) => (Number.isNaN(s.ackedAt) ? (s.failure ?? 'unsettled') : null)),
    },
    ackIdMismatches: ledger.ackIdMismatches,
    sendErrors: { ...ledger.sendErrors },
    clients: clientStates(),
    recoveries: ledger.recoveries,
    syncs: { ...ledger.syncs },
    catchUpJoinsAt: ledger.catchUpJoinsAt.toArray(),
    syncFailures: { ...ledger.syncFailures },
    syncShortfalls: ledger.syncShortfalls,
    connectErrors: { ...ledger.connectErrors },
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

/** Every client asks once more from its last applied seq: anything it gets now is a gap nothing had revealed. */
async function finalSync() {
  const failuresBefore = Object.entries(ledger.syncFailures).reduce((n, [k, v]) => n + (k.startsWith('final:') ? v : 0), 0);
  const appliedBefore = ledger.deliveriesByPath.final;
  await pool([...clients.values()], 50, (c) => c.sync('final'));
  const failuresAfter = Object.entries(ledger.syncFailures).reduce((n, [k, v]) => n + (k.startsWith('final:') ? v : 0), 0);
  reply({
    type: 'finalSynced',
    applied: ledger.deliveriesByPath.final - appliedBefore,
    deliveredMessages: Int32Array.from(ledger.finalDelivered),
    clients: clientStates(),
    failures: failuresAfter - failuresBefore,
  });
}

process.on('message', (msg: ToChaosClient) => {
  const fail = (err: unknown) => reply({ type: 'error', message: String((err as Error)?.stack ?? err) });
  switch (msg.type) {
    case 'init':
      init(msg).catch(fail);
      break;
    case 'schedule':
      schedule(msg);
      break;
    case 'progress':
      reply(progress(msg.id));
      break;
    case 'collect':
      reply(collect());
      break;
    case 'finalSync':
      finalSync().catch(fail);
      break;
    case 'close':
      clearTimeout(pumpTimer);
      clearTimeout(giveUpTimer);
      for (const c of clients.values()) c.close();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
process.on('disconnect', () => process.exit(0));
