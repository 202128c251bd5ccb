import type { Deps } from '../../domain/shared/deps.ts';
import type { RouteKit } from '../routeKit.ts';

/** My notification preferences and the one-click e-mail unsubscribe. */
export function notificationPreferenceRoutes(route: RouteKit, deps: Deps) {
  void route;
  void deps;
}
