import type { Deps } from '../../domain/shared/deps.ts';
import type { RouteKit } from '../routeKit.ts';

/** Communities, memberships, invites, channels, DMs and blocks. */
export function communityRoutes(_route: RouteKit, _deps: Deps) {}
