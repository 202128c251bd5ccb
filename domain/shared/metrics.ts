import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventBus } from './events.ts';

export interface MetricsOptions {
  defaultMetrics?: boolean;
  /** Reads the number of permanently failed jobs (the dead letter) when /metrics is scraped. */
  countFailedJobs?: () => Promise<number>;
}

/** One registry per node (not prom-client's global), so tests can run several nodes in one process. */
export function createMetrics(options: MetricsOptions = {}) {
  const registry = new Registry();
  // The event-loop delay histogram (nodejs_eventloop_lag_{min,max,mean,p50,p90,p99}) samples every 100 ms, not every
  // 10 ms: a timer waking the process 100 times a second cost an idle node about 0.5 % of a core by itself. Its figures
  // are intervals between samples, so they now read from 0.1 s upwards; any stall longer than 0.1 s still shows.
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const httpDuration = new Histogram({
    name: 'edulure_http_request_duration_seconds',
    help: 'HTTP request latency by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const openSockets = new Gauge({
    name: 'edulure_socket_connections_open',
    help: 'Socket.IO connections open on this node',
    registers: [registry],
  });
  const socketEvents = new Counter({
    name: 'edulure_socket_events_total',
    help: 'Client socket events handled, by event name and outcome (ok or error code)',
    labelNames: ['event', 'outcome'] as const,
    registers: [registry],
  });
  const domainEvents = new Counter({
    name: 'edulure_domain_events_total',
    help: 'Domain events emitted on this node, by event name',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const { countFailedJobs } = options;
  const failedJobs = new Gauge({
    name: 'edulure_jobs_failed',
    help: 'Jobs that used up their attempts and wait in graphile_worker.jobs with their last error (shared by all nodes)',
    registers: [registry],
    async collect() {
      if (!countFailedJobs) return;
      try {
        this.set(await countFailedJobs());
      } catch {
        // The database is unreachable: /metrics still answers, readiness reports the database.
      }
    },
  });
  const dependencyFailures = new Counter({
    name: 'edulure_dependency_failures_total',
    help: 'HTTP requests and socket events answered `unavailable` because Redis or PostgreSQL was unreachable, by dependency',
    labelNames: ['dependency'] as const,
    registers: [registry],
  });
  const dependencyFallbacks = new Counter({
    name: 'edulure_dependency_fallbacks_total',
    help: 'Operations served from local state or PostgreSQL while Redis was unreachable, by dependency and feature',
    labelNames: ['dependency', 'feature'] as const,
    registers: [registry],
  });
  const abuseRefusals = new Counter({
    name: 'edulure_abuse_refusals_total',
    help: 'Connections and requests refused by an abuse limit, by limit (docs/operations.md, "Abuse limits")',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  const abuseDisconnects = new Counter({
    name: 'edulure_abuse_disconnects_total',
    help: 'Sockets this node closed for abuse, by reason: event_flood or slow_consumer',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const socketBufferedBytes = new Gauge({
    name: 'edulure_socket_buffered_bytes',
    help: "Bytes queued on this node for its sockets that the clients have not taken yet, at the last check: all sockets' (total) and the largest one's (max)",
    labelNames: ['stat'] as const,
    registers: [registry],
  });
  return {
    registry,
    httpDuration,
    openSockets,
    socketEvents,
    domainEvents,
    failedJobs,
    dependencyFailures,
    dependencyFallbacks,
    abuseRefusals,
    abuseDisconnects,
    socketBufferedBytes,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** A listener like any other: counts every domain event by name, without any operation knowing. */
export function countDomainEvents(bus: EventBus, metrics: Metrics): () => void {
  return bus.onAny((name) => {
    metrics.domainEvents.inc({ event: name });
  });
}
