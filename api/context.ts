import type { ParameterizedContext } from 'koa';
import type { Logger } from 'pino';
import type { Actor, ClientInfo } from '../domain/shared/deps.ts';

export interface ApiState {
  requestId: string;
  log: Logger;
  client: ClientInfo;
  actor?: Actor;
  /** The raw JSON body, parsed but not yet validated. */
  body?: unknown;
  /** Route template for metrics, e.g. /api/v1/auth/sessions/:id */
  routeName?: string;
}

export type ApiContext = ParameterizedContext<ApiState>;
