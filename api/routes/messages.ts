import { HistoryQuery, MessageList, MessagePage, ReceiptList, SearchQuery } from '../../contracts/chat.ts';
import { IdParam } from '../../contracts/communities.ts';
import { channelHistory, channelReceipts, messageThread } from '../../domain/chat/reading.ts';
import { searchMessages } from '../../domain/search/messages.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

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
    (ctx, { params, query }) => channelHistory(deps, actorOf(ctx), params.id, query),
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
    async (ctx, { params }) => ({ data: await messageThread(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'get',
      path: '/channels/:id/receipts',
      summary: 'Read receipts: how far each member has read',
      tags: ['chat'],
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Last read seq per member', schema: ReceiptList } },
    },
    async (ctx, { params }) => ({ data: await channelReceipts(deps, actorOf(ctx), params.id) }),
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
    async (ctx, { query }) => ({ data: await searchMessages(deps, actorOf(ctx), query) }),
  );
}
