import type { Deps } from '../../domain/shared/deps.ts';
import type { RouteKit } from '../routeKit.ts';

export function assetRoutes(_route: RouteKit, _deps: Deps) {}
