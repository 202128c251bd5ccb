import {
  CommunityEnvelope,
  CommunityPage,
  CreateCommunityInput,
  IdParam,
  InviteCodeParam,
  InviteDto,
  ListCommunitiesQuery,
  MemberEnvelope,
  MemberPage,
  MemberParams,
  PageQuery,
  UpdateMemberInput,
} from '../../contracts/communities.ts';
import { createCommunity, getCommunity, joinCommunity, leaveCommunity, listCommunities } from '../../domain/communities/communities.ts';
import { acceptInvite, createInvite } from '../../domain/communities/invites.ts';
import { listMembers, removeMember, updateMemberRole } from '../../domain/communities/members.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';
import { channelRoutes } from './channels.ts';
import { dmRoutes } from './dms.ts';

const tags = ['communities'];

/** Communities, memberships, invites, channels, DMs and blocks. */
export function communityRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'post',
      path: '/communities',
      summary: 'Create a community (the creator is its owner)',
      tags,
      auth: true,
      body: CreateCommunityInput,
      responses: { 201: { description: 'Created', schema: CommunityEnvelope } },
    },
    async (ctx, { body }) => ({ community: await createCommunity(deps, actorOf(ctx), body) }),
  );

  route(
    {
      method: 'get',
      path: '/communities',
      summary: 'Discover public communities and mine, by name; cursor pagination',
      tags,
      auth: true,
      query: ListCommunitiesQuery,
      responses: { 200: { description: 'A page of communities', schema: CommunityPage } },
    },
    (ctx, { query }) => listCommunities(deps, actorOf(ctx), query),
  );

  route(
    {
      method: 'get',
      path: '/communities/:id',
      summary: 'One community (private ones only for members)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'The community', schema: CommunityEnvelope } },
    },
    async (ctx, { params }) => ({ community: await getCommunity(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'post',
      path: '/communities/:id/join',
      summary: 'Join a public community (idempotent); private ones need an invite',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Joined', schema: CommunityEnvelope } },
    },
    async (ctx, { params }) => ({ community: await joinCommunity(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'post',
      path: '/communities/:id/leave',
      summary: 'Leave a community (the last owner cannot); its channels close live on every device',
      tags,
      auth: true,
      params: IdParam,
      responses: { 204: { description: 'Left' } },
    },
    async (ctx, { params }) => {
      await leaveCommunity(deps, actorOf(ctx), params.id);
    },
  );

  route(
    {
      method: 'post',
      path: '/communities/:id/invites',
      summary: 'Create an invite code, valid for 7 days (moderators and up)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 201: { description: 'Created', schema: InviteDto } },
    },
    (ctx, { params }) => createInvite(deps, actorOf(ctx), params.id),
  );

  route(
    {
      method: 'post',
      path: '/invites/:code/accept',
      summary: 'Join a community with an invite code',
      tags,
      auth: true,
      params: InviteCodeParam,
      responses: { 200: { description: 'Joined', schema: CommunityEnvelope } },
    },
    async (ctx, { params }) => ({ community: await acceptInvite(deps, actorOf(ctx), params.code) }),
  );

  route(
    {
      method: 'get',
      path: '/communities/:id/members',
      summary: 'Members, by join date; members only; cursor pagination',
      tags,
      auth: true,
      params: IdParam,
      query: PageQuery,
      responses: { 200: { description: 'A page of members', schema: MemberPage } },
    },
    (ctx, { params, query }) => listMembers(deps, actorOf(ctx), params.id, query),
  );

  route(
    {
      method: 'patch',
      path: '/communities/:id/members/:userId',
      summary: "Change a member's role (owners: any; admins: moderator/member below them; never the last owner)",
      tags,
      auth: true,
      params: MemberParams,
      body: UpdateMemberInput,
      responses: { 200: { description: 'Updated', schema: MemberEnvelope } },
    },
    async (ctx, { params, body }) => ({ member: await updateMemberRole(deps, actorOf(ctx), params.id, params.userId, body.role) }),
  );

  route(
    {
      method: 'delete',
      path: '/communities/:id/members/:userId',
      summary: 'Remove a member of lower rank (moderators and up); removing yourself is leaving',
      tags,
      auth: true,
      params: MemberParams,
      responses: { 204: { description: 'Removed' } },
    },
    async (ctx, { params }) => {
      await removeMember(deps, actorOf(ctx), params.id, params.userId);
    },
  );

  channelRoutes(route, deps);
  dmRoutes(route, deps);
}
