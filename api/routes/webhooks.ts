import type { Deps } from '../../domain/shared/deps.ts';
import type { RouteKit } from '../routeKit.ts';

/** Stripe's webhook endpoint. */
export function webhookRoutes(route: RouteKit, deps: Deps) {
  void route;
  void deps;
}
