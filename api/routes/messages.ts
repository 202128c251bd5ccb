import type { Deps } from '../../domain/shared/deps.ts';
import type { RouteKit } from '../routeKit.ts';

/** Message history, threads and search. */
export function messageRoutes(_route: RouteKit, _deps: Deps) {}
