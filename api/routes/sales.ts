import type { Deps } from '../../domain/shared/deps.ts';
import type { RouteKit } from '../routeKit.ts';

/** Refunds, earnings and bundles. */
export function salesRoutes(route: RouteKit, deps: Deps) {
  void route;
  void deps;
}
