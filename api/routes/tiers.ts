import type { Deps } from '../../domain/shared/deps.ts';
import type { RouteKit } from '../routeKit.ts';

/** Paid community tiers and subscriptions. */
export function tierRoutes(route: RouteKit, deps: Deps) {
  void route;
  void deps;
}
