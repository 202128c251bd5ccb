import { randomUUID } from 'node:crypto';
import type { Next } from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../../domain/shared/metrics.ts';
import type { ApiContext } from '../context.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface ClientAddressOptions {
  trustProxy: boolean;
  /** Shared with the in-process web server, which forwards the browser's address. */
  internalSecret: string;
}

/** Request id (x-request-id in and out), a child logger, the caller's address, and the latency histogram. */
export function requestContext(logger: Logger, metrics: Metrics, addressOptions: ClientAddressOptions) {
  return async (ctx: ApiContext, next: Next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('x-request-id', requestId);
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ requestId });
    ctx.state.client = { ip: clientAddress(ctx, addressOptions), userAgent: ctx.get('user-agent').slice(0, 512) || null };
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = ctx.state.routeName ?? (ctx._matchedRoute as string | undefined) ?? 'unmatched';
      metrics.httpDuration.observe({ method: ctx.method, route, status: String(ctx.status) }, seconds);
      ctx.state.log.info(
        { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1000) },
        'request',
      );
    }
  };
}

function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

export function clientAddress(ctx: ApiContext, options: ClientAddressOptions): string | null {
  const socketAddress = ctx.req.socket.remoteAddress;
  const forwardedByWeb = ctx.get('x-edulure-client-ip');
  if (forwardedByWeb && isLoopback(socketAddress) && options.internalSecret && ctx.get('x-edulure-internal') === options.internalSecret) {
    return forwardedByWeb.slice(0, 64);
  }
  if (options.trustProxy) {
    const first = ctx.get('x-forwarded-for').split(',')[0]?.trim();
    if (first) return first.slice(0, 64);
  }
  return socketAddress ?? null;
}
