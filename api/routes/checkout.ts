import type { Deps } from '../../domain/shared/deps.ts';
import type { RouteKit } from '../routeKit.ts';

/** Checkout, quotes and products (prices set by the server). */
export function checkoutRoutes(route: RouteKit, deps: Deps) {
  void route;
  void deps;
}
