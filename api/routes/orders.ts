import type { Deps } from '../../domain/shared/deps.ts';
import type { RouteKit } from '../routeKit.ts';

/** Orders: the buyer's history and receipts, and the test payment page's Pay and Decline. */
export function orderRoutes(route: RouteKit, deps: Deps) {
  void route;
  void deps;
}
