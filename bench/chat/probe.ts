/**
 * Preloaded into every server process of the chat bench (baseline and Edulure alike) with
 * `node --expose-gc --import ./bench/chat/probe.ts …`, so both sides are measured the same way without touching
 * server code: on request over the IPC channel it (optionally) collects garbage twice and answers with
 * process.memoryUsage(), process.cpuUsage() and the event-loop utilisation. When the bench goes away, so does the
 * process: no orphaned servers after a crash of the orchestrator.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { ProbeReply } from './protocol.ts';

const send = process.send?.bind(process);

// Stalls between two probes (a step): the longest event-loop delay and the garbage collector's pauses.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const gcPauses = { count: 0, totalMs: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcPauses.count++;
    gcPauses.totalMs += entry.duration;
    gcPauses.maxMs = Math.max(gcPauses.maxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });
let profiler: Session | undefined;

/** BENCH_CPU_PROFILE: a V8 CPU profile of just the measured steps, through the inspector of this process. */
async function profile(action: 'start' | 'stop', file?: string): Promise<void> {
  if (action === 'start') {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    return;
  }
  if (!profiler) return;
  const { profile: result } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = undefined;
  if (file) writeFileSync(file, JSON.stringify(result));
}

if (send) {
  process.on('message', (msg: { type?: string; id?: number; file?: string }) => {
    if (msg?.type !== 'bench:heapSnapshot') return;
    (globalThis as { gc?: () => void }).gc?.();
    v8.writeHeapSnapshot(msg.file);
    send({ type: 'bench:heapSnapshot:done', id: msg.id });
  });
  process.on('message', (msg: { type?: string; id?: number; action?: 'start' | 'stop'; file?: string }) => {
    if (msg?.type !== 'bench:profile') return;
    profile(msg.action!, msg.file).then(
      () => send({ type: 'bench:profile:done', id: msg.id }),
      (err: unknown) => send({ type: 'bench:profile:done', id: msg.id, error: String(err) }),
    );
  });
  process.on('message', (msg: { type?: string; id?: number; gc?: boolean }) => {
    if (msg?.type !== 'bench:probe') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (msg.gc && gc) {
      gc();
      gc();
    }
    const elu = performance.eventLoopUtilization();
    const reply: ProbeReply = {
      type: 'bench:probe:reply',
      id: msg.id ?? 0,
      memory: process.memoryUsage(),
      cpu: process.cpuUsage(),
      elu: { idle: elu.idle, active: elu.active, utilization: elu.utilization },
      sinceLastProbe: {
        loopDelayMaxMs: +(loopDelay.max / 1e6).toFixed(1),
        loopDelayP99Ms: +(loopDelay.percentile(99) / 1e6).toFixed(1),
        gc: { count: gcPauses.count, totalMs: +gcPauses.totalMs.toFixed(1), maxMs: +gcPauses.maxMs.toFixed(1) },
      },
    };
    loopDelay.reset();
    Object.assign(gcPauses, { count: 0, totalMs: 0, maxMs: 0 });
    send(reply);
  });
  process.on('disconnect', () => process.exit(0));
}
