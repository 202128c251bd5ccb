import { z } from 'zod';
import { HistoryQuery, MessageDto, SearchQuery } from '../../contracts/chat.ts';
import { IdParam } from '../../contracts/communities.ts';
import { channelHistory, channelReceipts, messageThread, searchMessages } from '../../domain/chat/reading.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

const MessagePage = z.object({ data: z.array(MessageDto), hasMore: z.boolean() }).describe('MessagePage');
const MessageList = z.object({ data: z.array(MessageDto) }).describe('MessageList');

/** Message history, threads, receipts and search: same policies as the socket events. */
export function messageRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/channels/:id/messages',
      summary: 'Channel history by seq (afterSeq ascending, beforeSeq or latest page)',
      tags: ['chat'],
      auth: true,
      params: IdParam,
      query: HistoryQuery,
      responses: { 200: { description: 'Messages, oldest first', schema: MessagePage } },
    },
    async (ctx, { params, query }) => {
      ctx.body = await channelHistory(deps, actorOf(ctx), params.id, query);
    },
  );

  route(
    {
      method: 'get',
      path: '/messages/:id/thread',
      summary: 'A thread: the root message and its replies, oldest first',
      tags: ['chat'],
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Root first', schema: MessageList } },
    },
    async (ctx, { params }) => {
      ctx.body = { data: await messageThread(deps, actorOf(ctx), params.id) };
    },
  );

  route(
    {
      method: 'get',
      path: '/channels/:id/receipts',
      summary: 'Read receipts: how far each member has read',
      tags: ['chat'],
      auth: true,
      params: IdParam,
      responses: {
        200: { description: 'Last read seq per member', schema: z.object({ data: z.array(z.object({ userId: z.uuid(), seq: z.number().int() })) }) },
      },
    },
    async (ctx, { params }) => {
      ctx.body = { data: await channelReceipts(deps, actorOf(ctx), params.id) };
    },
  );

  route(
    {
      method: 'get',
      path: '/search/messages',
      summary: 'Full-text search over the messages you can read',
      tags: ['chat'],
      auth: true,
      query: SearchQuery,
      responses: { 200: { description: 'Newest first', schema: MessageList } },
    },
    async (ctx, { query }) => {
      ctx.body = { data: await searchMessages(deps, actorOf(ctx), query) };
    },
  );
}
