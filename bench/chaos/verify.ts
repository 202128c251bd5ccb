/**
 * The drill's verdict from the load clients' reports and PostgreSQL's state at the end: every acked message applied
 * exactly once by every other member of its room (reach over acked, duplicates), every client at its channel's last
 * seq (gaps), every clientId stored once (and every acked id stored), and how the killed node's clients recovered.
 */
import type pg from 'pg';
import { distribution } from '../chat/stats.ts';
import type { Plan } from './plan.ts';
import { clientIdOf, type ChaosFinalSync, type ChaosReport, type DeliveryPath, type Recovery, type SyncReason } from './protocol.ts';

interface StoredMessage {
  id: string;
  authorId: string;
  channelId: string;
  seq: number;
  /** Epoch ms of the storing transaction. */
  createdAt: number;
}

export interface StoredState {
  /** The drill's messages as stored: by clientId, every copy. */
  byClientId: Map<string, StoredMessage[]>;
  /** Copies beyond the first per (author, clientId), over the whole messages table. */
  extraCopies: number;
  /** channels.last_seq per channel. */
  lastSeq: Map<string, number>;
  /** Channels whose event log is not exactly 1…last_seq (count and highest seq of channel_events differ from it). */
  eventLogGaps: number;
}

export async function readStoredState(client: pg.Client, channelIds: string[]): Promise<StoredState> {
  const messages = await client.query<{ id: string; author_id: string; client_id: string; channel_id: string; seq: string; created_ms: number }>(
    `select id, author_id, client_id, channel_id, seq, extract(epoch from created_at) * 1000 as created_ms from messages where client_id like 'chaos-m%'`,
  );
  const byClientId = new Map<string, StoredMessage[]>();
  for (const r of messages.rows) {
    const copies = byClientId.get(r.client_id) ?? [];
    copies.push({ id: r.id, authorId: r.author_id, channelId: r.channel_id, seq: Number(r.seq), createdAt: Number(r.created_ms) });
    byClientId.set(r.client_id, copies);
  }
  const extra = await client.query<{ n: string }>(
    `select coalesce(sum(n - 1), 0) as n from (select count(*) as n from messages group by author_id, client_id having count(*) > 1) d`,
  );
  const channels = await client.query<{ id: string; last_seq: string; events: string; max_seq: string | null }>(
    `select c.id, c.last_seq, count(e.seq) as events, max(e.seq) as max_seq
     from channels c left join channel_events e on e.channel_id = c.id where c.id = any($1::uuid[]) group by c.id, c.last_seq`,
    [channelIds],
  );
  const lastSeq = new Map(channels.rows.map((r) => [r.id, Number(r.last_seq)]));
  const eventLogGaps = channels.rows.filter((r) => Number(r.events) !== Number(r.last_seq) || Number(r.max_seq ?? 0) !== Number(r.last_seq)).length;
  return { byClientId, extraCopies: Number(extra.rows[0]!.n), lastSeq, eventLogGaps };
}

export interface Marks {
  loadStartAt: number;
  killAt: number;
  /** The last reconnecting client caught up (or the storm's deadline passed). */
  stormEndAt: number;
}

const sumRecords = <K extends string>(records: Record<K, number>[]) => {
  const out = {} as Record<K, number>;
  for (const r of records) for (const [k, v] of Object.entries(r) as [K, number][]) out[k] = (out[k] ?? 0) + v;
  return out;
};
const ms = (values: number[]) => distribution([Float64Array.from(values)]);

export function verify(options: {
  plan: Plan;
  roomSize: number;
  channelIds: string[];
  userIds: string[];
  reports: ChaosReport[];
  finals: ChaosFinalSync[];
  stored: StoredState;
  marks: Marks;
  catchUpBudgetMs: number;
  /** The clients that started on the killed node. */
  killedNodeClients: number;
}) {
  const { plan, roomSize, reports, stored, marks } = options;
  const total = plan.sends.length;

  // Sends, merged by message: each message belongs to one sender in one process.
  const acked = new Uint8Array(total);
  const ackedAt = new Float64Array(total).fill(NaN);
  const ackedId: (string | null)[] = new Array(total).fill(null);
  const attemptsOf = new Int32Array(total);
  const failures: Record<string, number> = {};
  let attempted = 0;
  let retries = 0;
  let retried = 0;
  for (const r of reports) {
    r.sends.m.forEach((m, i) => {
      const attempts = r.sends.attempts[i]!;
      attemptsOf[m] = attempts;
      if (attempts > 0) attempted++;
      retries += Math.max(0, attempts - 1);
      if (attempts > 1) retried++;
      if (!Number.isNaN(r.sends.ackedAt[i]!)) {
        acked[m] = 1;
        ackedAt[m] = r.sends.ackedAt[i]!;
        ackedId[m] = r.sends.messageIds[i]!;
      } else {
        const why = r.sends.failures[i] ?? 'unsettled';
        failures[why] = (failures[why] ?? 0) + 1;
      }
    });
  }
  const ackedCount = acked.reduce((n, v) => n + v, 0);

  // Deliveries: seen[m * roomSize + position] = distinct seqs at which that member applied m.
  const seen = new Uint16Array(total * roomSize);
  for (const r of reports) r.seen.forEach((v, k) => void (seen[k] = seen[k]! + v));
  let expected = 0;
  let delivered = 0;
  let duplicateDeliveries = 0;
  let unackedDelivered = 0;
  const missing: { m: number; position: number }[] = [];
  for (const s of plan.sends) {
    const sender = s.conn % roomSize;
    let reachedSomeone = false;
    for (let p = 0; p < roomSize; p++) {
      if (p === sender) continue;
      const n = seen[s.m * roomSize + p]!;
      if (n > 1) duplicateDeliveries += n - 1;
      if (n > 0) reachedSomeone = true;
      if (!acked[s.m]) continue;
      expected++;
      if (n > 0) delivered++;
      else if (missing.length < 20) missing.push({ m: s.m, position: p });
    }
    if (!acked[s.m] && reachedSomeone) unackedDelivered++;
  }
  const ackIdMismatches = reports.reduce((n, r) => n + r.ackIdMismatches, 0);

  // Latency of acked messages by when they were scheduled: before the kill, during the storm, after it. During the
  // storm also between members that stayed on node 1 throughout: the live path, free of any client's reconnect.
  type Window = 'before' | 'during' | 'duringNode1ToNode1' | 'after';
  const windowOf = (at: number): Window | null =>
    at < marks.loadStartAt ? null : at < marks.killAt ? 'before' : at <= marks.stormEndAt ? 'during' : 'after';
  const onNode1 = (position: number) => position % 2 === 0; // members alternate between the nodes, node 1 first
  const samples = Object.fromEntries(
    (['before', 'during', 'duringNode1ToNode1', 'after'] as const).map((w) => [w, { e2e: [] as number[], applied: [] as number[], ack: [] as number[] }]),
  ) as Record<Window, { e2e: number[]; applied: number[]; ack: number[] }>;
  for (const r of reports) {
    const { m, position, receivedAt, appliedAt } = r.deliveries;
    for (let i = 0; i < m.length; i++) {
      const message = m[i]!;
      if (!acked[message]) continue;
      const { at, conn } = plan.sends[message]!;
      const w = windowOf(at);
      if (!w) continue;
      const windowsOfIt = w === 'during' && onNode1(conn % roomSize) && onNode1(position[i]!) ? [w, 'duringNode1ToNode1' as const] : [w];
      for (const x of windowsOfIt) {
        samples[x].e2e.push(receivedAt[i]! - at);
        samples[x].applied.push(appliedAt[i]! - at);
      }
    }
  }
  for (const s of plan.sends) {
    const w = windowOf(s.at);
    if (!w || !acked[s.m]) continue;
    samples[w].ack.push(ackedAt[s.m]! - s.at);
    if (w === 'during' && onNode1(s.conn % roomSize)) samples.duringNode1ToNode1.ack.push(ackedAt[s.m]! - s.at);
  }
  const latency = Object.fromEntries(
    Object.entries(samples).map(([w, v]) => [w, { e2eMs: ms(v.e2e), appliedMs: ms(v.applied), ackMs: ms(v.ack) }]),
  ) as Record<Window, { e2eMs: ReturnType<typeof ms>; appliedMs: ReturnType<typeof ms>; ackMs: ReturnType<typeof ms> }>;

  // Gaps: each client's last applied seq against its channel's, before and after one last catch-up.
  const channelOfConn = (conn: number) => options.channelIds[Math.floor(conn / roomSize)]!;
  const behind = (states: { conn: Int32Array; lastApplied: Int32Array; held: Int32Array }[]) => {
    let clients = 0;
    let events = 0;
    let held = 0;
    for (const s of states) {
      s.conn.forEach((conn, i) => {
        const last = stored.lastSeq.get(channelOfConn(conn)) ?? 0;
        const gap = Math.max(0, last - s.lastApplied[i]!);
        held += s.held[i]!;
        if (gap > 0 || s.held[i]! > 0) clients++;
        events += gap;
      });
    }
    return { clients, events, held };
  };
  const gapsAtEnd = behind(reports.map((r) => r.clients));
  const afterFinal = behind(options.finals.map((f) => f.clients));
  const finalMessages = new Set(options.finals.flatMap((f) => [...f.deliveredMessages]));
  const gaps = {
    clientsBehind: gapsAtEnd.clients,
    missingEvents: gapsAtEnd.events,
    heldAtEnd: gapsAtEnd.held,
    closedByFinalCatchUp: options.finals.reduce((n, f) => n + f.applied, 0),
    ackedMessagesOnlyInFinalCatchUp: [...finalMessages].filter((m) => acked[m]).length,
    clientsBehindAfterFinalCatchUp: afterFinal.clients,
    finalCatchUpFailures: options.finals.reduce((n, f) => n + f.failures, 0),
    eventLogGaps: stored.eventLogGaps,
  };

  // The store: one row per clientId, every acked message there under the id its ack named.
  let storedMessages = 0;
  let storedMoreThanOnce = 0;
  let ackedMissing = 0;
  let ackedIdDiffers = 0;
  let storedUnacked = 0;
  let wrongAuthor = 0;
  let retriedStoredBeforeKill = 0;
  for (const s of plan.sends) {
    const copies = stored.byClientId.get(clientIdOf(s.m)) ?? [];
    // Sent again after the kill but stored by an attempt before it: the retry was answered with the original.
    if (attemptsOf[s.m]! > 1 && copies.some((c) => c.createdAt < marks.killAt)) retriedStoredBeforeKill++;
    storedMessages += copies.length;
    if (copies.length > 1) storedMoreThanOnce++;
    if (copies.some((c) => c.authorId !== options.userIds[s.conn])) wrongAuthor++;
    if (acked[s.m]) {
      if (!copies.length) ackedMissing++;
      else if (!copies.some((c) => c.id === ackedId[s.m])) ackedIdDiffers++;
    } else if (copies.length) storedUnacked++;
  }
  const store = {
    storedMessages,
    storedMoreThanOnce,
    extraCopiesInTable: stored.extraCopies,
    ackedMissing,
    ackedIdDiffers,
    storedUnacked,
    wrongAuthor,
    retriedStoredBeforeKill,
  };

  // The catch-up storm: the clients that lost their connection at or after the kill, from the kill on.
  const byConn = new Map<number, Recovery[]>();
  for (const r of reports) for (const rec of r.recoveries) if (rec.lostAt >= marks.killAt - 50) byConn.set(rec.conn, [...(byConn.get(rec.conn) ?? []), rec]);
  const first = (list: Recovery[], key: 'reconnectedAt' | 'rejoinedAt' | 'caughtUpAt') =>
    Math.min(...list.map((r) => r[key]).filter((v) => !Number.isNaN(v)));
  const since = (values: number[]) => values.filter(Number.isFinite).map((v) => v - marks.killAt);
  const conns = [...byConn.values()];
  const lostMs = since(conns.map((l) => l[0]!.lostAt));
  const reconnectedMs = since(conns.map((l) => first(l, 'reconnectedAt')));
  const rejoinedMs = since(conns.map((l) => first(l, 'rejoinedAt')));
  const caughtUpMs = since(conns.map((l) => first(l, 'caughtUpAt')));
  // Split of each client's recovery: its successful handshake (opened → connected), then its catch-up join.
  const reconnected = conns.map((l) => l.find((r) => !Number.isNaN(r.reconnectedAt))).filter((r): r is Recovery => !!r);
  const handshakeMs = reconnected.map((r) => r.reconnectedAt - r.attemptAt);
  const rejoinAfterReconnectMs = reconnected.filter((r) => !Number.isNaN(r.rejoinedAt)).map((r) => r.rejoinedAt - r.reconnectedAt);
  const lastCaughtUp = caughtUpMs.length ? Math.max(...caughtUpMs) : NaN;
  const catchUpJoinsInStorm = reports.reduce((n, r) => n + r.catchUpJoinsAt.filter((t) => t >= marks.killAt && t <= marks.stormEndAt).length, 0);
  const storm = {
    killedNodeClients: options.killedNodeClients,
    reconnectingClients: byConn.size,
    /** Of those, clients that had been on the surviving node (they should not have lost anything). */
    fromSurvivingNode: conns.filter((l) => l[0]!.fromNode === 0).length,
    channelsAffected: new Set([...byConn.keys()].map(channelOfConn)).size,
    lostMs: ms(lostMs),
    reconnectedMs: ms(reconnectedMs),
    rejoinedMs: ms(rejoinedMs),
    caughtUpMs: ms(caughtUpMs),
    handshakeMs: ms(handshakeMs),
    rejoinAfterReconnectMs: ms(rejoinAfterReconnectMs),
    notCaughtUp: conns.length - caughtUpMs.length,
    lastCaughtUpMs: Number.isFinite(lastCaughtUp) ? Math.round(lastCaughtUp) : null,
    budgetMs: options.catchUpBudgetMs,
    allCaughtUpWithinBudget: conns.length > 0 && caughtUpMs.length === conns.length && lastCaughtUp <= options.catchUpBudgetMs,
    connectAttempts: ms(conns.map((l) => l.reduce((n, r) => n + r.connectAttempts, 0))),
    catchUpJoinsInStorm,
  };

  const clientDuplicates = duplicateDeliveries;
  // Independent signals of one thing (a message stored or applied twice); the drill needs their sum to be 0, the
  // breakdown says which fired. A second stored copy shows in the table per clientId and table-wide: counted once.
  const duplicates = clientDuplicates + ackIdMismatches + Math.max(store.storedMoreThanOnce, store.extraCopiesInTable);
  const reach = expected ? delivered / expected : 0;
  const sendErrors = sumRecords(reports.map((r) => r.sendErrors));
  const passed = {
    reach: expected > 0 && delivered === expected,
    duplicates: duplicates === 0,
    gaps: gaps.clientsBehind === 0 && gaps.heldAtEnd === 0 && gaps.eventLogGaps === 0,
    storedOnce:
      store.storedMoreThanOnce === 0 &&
      store.extraCopiesInTable === 0 &&
      store.ackedMissing === 0 &&
      store.ackedIdDiffers === 0 &&
      store.wrongAuthor === 0,
  };
  return {
    passed: Object.values(passed).every(Boolean),
    checks: passed,
    sends: {
      scheduled: total,
      attempted,
      acked: ackedCount,
      failedAfterRetries: total - ackedCount,
      failures,
      retries,
      sendsRetried: retried,
      sendErrors,
    },
    delivery: {
      ackedMessages: ackedCount,
      expected,
      delivered,
      reach: +reach.toFixed(6),
      duplicates,
      duplicateBreakdown: { clientDeliveries: clientDuplicates, ackIdMismatches, storedMoreThanOnce: store.storedMoreThanOnce, extraCopiesInTable: store.extraCopiesInTable },
      unackedButDelivered: unackedDelivered,
      firstMissing: missing,
      deliveriesByPath: sumRecords<DeliveryPath>(reports.map((r) => r.deliveriesByPath)),
      echoes: reports.reduce((n, r) => n + r.echoes, 0),
      overlapsIgnored: reports.reduce((n, r) => n + r.overlaps, 0),
      outOfOrder: reports.reduce((n, r) => n + r.outOfOrder, 0),
    },
    gaps,
    store,
    latency,
    storm,
    client: {
      syncs: sumRecords<SyncReason>(reports.map((r) => r.syncs)),
      syncFailures: sumRecords(reports.map((r) => r.syncFailures)),
      syncShortfalls: reports.reduce((n, r) => n + r.syncShortfalls, 0),
      connectErrors: sumRecords(reports.map((r) => r.connectErrors)),
      loadGeneratorCpuMs: reports.map((r) => Math.round(r.cpuMs)),
    },
  };
}

export type Verdict = ReturnType<typeof verify>;
