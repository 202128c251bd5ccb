import { BlockList, ChannelEnvelope, ChannelList, CreateDmInput, IdParam } from '../../contracts/communities.ts';
import { blockUser, listBlocks, unblockUser } from '../../domain/communities/blocks.ts';
import { listDms, openDm } from '../../domain/communities/dms.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import { reply, type RouteKit } from '../routeKit.ts';

/** Direct messages and blocks. Registered from communityRoutes. */
export function dmRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'post',
      path: '/dms',
      summary: 'Open the 1:1 DM with one person (existing or new) or a new group DM (up to 10 people with me)',
      tags: ['dms'],
      auth: true,
      body: CreateDmInput,
      responses: {
        200: { description: 'The existing 1:1 DM', schema: ChannelEnvelope },
        201: { description: 'Created', schema: ChannelEnvelope },
      },
    },
    async (ctx, { body }) => {
      const { channel, created } = await openDm(deps, actorOf(ctx), body.userIds);
      return reply(created ? 201 : 200, { channel });
    },
  );

  route(
    {
      method: 'get',
      path: '/dms',
      summary: 'My DMs and group DMs, most recently active first, with their members',
      tags: ['dms'],
      auth: true,
      responses: { 200: { description: 'DM channels', schema: ChannelList } },
    },
    async (ctx) => ({ data: await listDms(deps, actorOf(ctx)) }),
  );

  route(
    {
      method: 'get',
      path: '/users/blocks',
      summary: 'The people I have blocked',
      tags: ['blocks'],
      auth: true,
      responses: { 200: { description: 'Blocked people, most recent first', schema: BlockList } },
    },
    async (ctx) => ({ data: await listBlocks(deps, actorOf(ctx)) }),
  );

  route(
    {
      method: 'post',
      path: '/users/:id/block',
      summary: 'Block someone: no DMs either way; they leave our 1:1 DM live (idempotent)',
      tags: ['blocks'],
      auth: true,
      params: IdParam,
      responses: { 204: { description: 'Blocked' } },
    },
    async (ctx, { params }) => {
      await blockUser(deps, actorOf(ctx), params.id);
    },
  );

  route(
    {
      method: 'delete',
      path: '/users/:id/block',
      summary: 'Unblock someone (idempotent)',
      tags: ['blocks'],
      auth: true,
      params: IdParam,
      responses: { 204: { description: 'Unblocked' } },
    },
    async (ctx, { params }) => {
      await unblockUser(deps, actorOf(ctx), params.id);
    },
  );
}
