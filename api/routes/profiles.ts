import { z } from 'zod';
import { IdParam } from '../../contracts/communities.ts';
import { MyProfileEnvelope, PublicProfileEnvelope, SetAvatarInput, UpdateProfileInput } from '../../contracts/profiles.ts';
import { openAvatar, removeAvatar, setAvatar } from '../../domain/profiles/avatar.ts';
import { getMyProfile, getPublicProfile, updateMyProfile } from '../../domain/profiles/profiles.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import { reply, type RouteKit } from '../routeKit.ts';

const tags = ['profiles'];

/** The avatar URL's query: which avatar (loose, so a stale or odd value is simply not found). */
const AvatarQuery = z.object({ v: z.string().max(64).optional() });

/** My profile (name, headline, bio, avatar) and other people's public cards. Registered from meRoutes. */
export function profileRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/me/profile',
      summary: 'My profile as I edit it',
      tags,
      auth: true,
      responses: { 200: { description: 'My profile', schema: MyProfileEnvelope } },
    },
    async (ctx) => ({ profile: await getMyProfile(deps, actorOf(ctx)) }),
  );

  route(
    {
      method: 'put',
      path: '/me/profile',
      summary: 'Replace my display name, headline (one line, ≤ 120) and bio (plain text, ≤ 2,000)',
      tags,
      auth: true,
      body: UpdateProfileInput,
      responses: { 200: { description: 'The saved profile', schema: MyProfileEnvelope } },
    },
    async (ctx, { body }) => ({ profile: await updateMyProfile(deps, actorOf(ctx), body) }),
  );

  route(
    {
      method: 'put',
      path: '/me/profile/avatar',
      summary:
        'Make one of my uploads my avatar: an image uploaded through POST /assets, at most 5 MB. Anything else → ' +
        '400 invalid_input (413 payload_too_large when too big)',
      tags,
      auth: true,
      body: SetAvatarInput,
      responses: { 200: { description: 'My profile with the new avatar', schema: MyProfileEnvelope } },
    },
    async (ctx, { body }) => {
      const actor = actorOf(ctx);
      await setAvatar(deps, actor, body.assetId);
      return { profile: await getMyProfile(deps, actor) };
    },
  );

  route(
    {
      method: 'delete',
      path: '/me/profile/avatar',
      summary: 'Remove my avatar (idempotent)',
      tags,
      auth: true,
      responses: { 200: { description: 'My profile without an avatar', schema: MyProfileEnvelope } },
    },
    async (ctx) => {
      const actor = actorOf(ctx);
      await removeAvatar(deps, actor);
      return { profile: await getMyProfile(deps, actor) };
    },
  );

  route(
    {
      method: 'get',
      path: '/users/:id/profile',
      summary: "Someone's public card: name, avatar, headline, bio and the communities we share (404 across a block)",
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'The card', schema: PublicProfileEnvelope } },
    },
    async (ctx, { params }) => ({ profile: await getPublicProfile(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'get',
      path: '/users/:id/avatar',
      summary:
        "A person's avatar image (WebP, ≤ 320 px), at the URL profile DTOs give as avatarUrl. No sign-in (images load " +
        'without a token); only the current avatar is served',
      tags,
      auth: false,
      params: IdParam,
      query: AvatarQuery,
      responses: { 200: { description: 'The image', raw: 'image/webp' } },
    },
    async (ctx, { params, query }) => {
      const avatar = await openAvatar(deps, params.id, query.v ?? '');
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
      ctx.set('Cross-Origin-Resource-Policy', 'same-site');
      // The URL names the avatar; a new avatar is a new URL.
      ctx.set('Cache-Control', 'private, max-age=86400');
      ctx.set('ETag', `"${avatar.etag}"`);
      ctx.type = 'image/webp';
      ctx.length = avatar.byteSize;
      if (ctx.method === 'HEAD') avatar.stream.destroy();
      else ctx.body = avatar.stream;
      return reply(200, undefined);
    },
  );
}
