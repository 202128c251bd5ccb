import type { Deps } from '../../domain/shared/deps.ts';
import type { RouteKit } from '../routeKit.ts';

/** Coupons of a seller. */
export function couponRoutes(route: RouteKit, deps: Deps) {
  void route;
  void deps;
}
