import type { Deps } from '../../domain/shared/deps.ts';
import type { RouteKit } from '../routeKit.ts';

/** Web push: the VAPID public key and my devices' subscriptions. */
export function pushRoutes(route: RouteKit, deps: Deps) {
  void route;
  void deps;
}
