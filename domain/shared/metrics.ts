import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per node (not prom-client's global), so tests can run several nodes in one process. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
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
  return { registry, httpDuration, openSockets, socketEvents };
}

export type Metrics = ReturnType<typeof createMetrics>;
