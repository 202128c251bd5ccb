import {
  AddChannelMemberInput,
  ChannelEnvelope,
  ChannelList,
  CreateChannelInput,
  IdParam,
  MemberParams,
  UpdateChannelInput,
} from '../../contracts/communities.ts';
import { addChannelMember, createChannel, listChannels, removeChannelMember, updateChannel } from '../../domain/communities/channels.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

const tags = ['channels'];

/** Community channels and private-channel membership. Registered from communityRoutes. */
export function channelRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'post',
      path: '/communities/:id/channels',
      summary: 'Create a channel (owners and admins); names are unique per community, case-insensitively',
      tags,
      auth: true,
      params: IdParam,
      body: CreateChannelInput,
      responses: { 201: { description: 'Created', schema: ChannelEnvelope } },
    },
    async (ctx, { params, body }) => ({ channel: await createChannel(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'get',
      path: '/communities/:id/channels',
      summary: 'The channels I may read, with lastSeq, unreadCount and mentionCount',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Channels by name', schema: ChannelList } },
    },
    async (ctx, { params }) => ({ data: await listChannels(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'patch',
      path: '/channels/:id',
      summary: 'Rename, change the topic, archive or unarchive (community owners and admins)',
      tags,
      auth: true,
      params: IdParam,
      body: UpdateChannelInput,
      responses: { 200: { description: 'Updated', schema: ChannelEnvelope } },
    },
    async (ctx, { params, body }) => ({ channel: await updateChannel(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'post',
      path: '/channels/:id/members',
      summary: 'Add a community member to a private channel (idempotent)',
      tags,
      auth: true,
      params: IdParam,
      body: AddChannelMemberInput,
      responses: { 204: { description: 'Added' } },
    },
    async (ctx, { params, body }) => {
      await addChannelMember(deps, actorOf(ctx), params.id, body.userId);
    },
  );

  route(
    {
      method: 'delete',
      path: '/channels/:id/members/:userId',
      summary: 'Remove someone from a private channel (or leave it / a group DM yourself); their sockets leave the room',
      tags,
      auth: true,
      params: MemberParams,
      responses: { 204: { description: 'Removed' } },
    },
    async (ctx, { params }) => {
      await removeChannelMember(deps, actorOf(ctx), params.id, params.userId);
    },
  );
}
