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
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
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
  return { registry, httpDuration, openSockets, socketEvents, domainEvents, failedJobs };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** A listener like any other: counts every domain event by name, without any operation knowing. */
export function countDomainEvents(bus: EventBus, metrics: Metrics): () => void {
  return bus.onAny((name) => {
    metrics.domainEvents.inc({ event: name });
  });
}
