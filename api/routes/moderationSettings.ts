import { IdParam } from '../../contracts/communities.ts';
import { ModerationSettingsEnvelope, ModerationSettingsInput } from '../../contracts/moderation.ts';
import { getModerationSettings, updateModerationSettings } from '../../domain/moderation/settings.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

const tags = ['moderation'];

/** Automod per community: word filter, new-member link limit, slow mode per channel. */
export function moderationSettingsRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/communities/:id/moderation/settings',
      summary: "The community's automod settings (its moderators, admins and owners; platform staff)",
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Current settings', schema: ModerationSettingsEnvelope } },
    },
    async (ctx, { params }) => ({ settings: await getModerationSettings(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'patch',
      path: '/communities/:id/moderation/settings',
      summary: 'Change automod settings (community admins and owners, platform admins); recorded in the audit log',
      tags,
      auth: true,
      params: IdParam,
      body: ModerationSettingsInput,
      responses: { 200: { description: 'Settings after the change', schema: ModerationSettingsEnvelope } },
    },
    async (ctx, { params, body }) => ({ settings: await updateModerationSettings(deps, actorOf(ctx), params.id, body) }),
  );
}
