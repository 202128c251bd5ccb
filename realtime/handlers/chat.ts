import {
  ChannelIdInput,
  EditMessageInput,
  JoinChannelInput,
  MarkReadInput,
  MessageIdInput,
  PinMessageInput,
  SendMessageInput,
  ToggleReactionInput,
} from '../../contracts/chat.ts';
import { rooms } from '../../contracts/realtime.ts';
import { deleteMessage, editMessage, pinMessage, toggleReaction } from '../../domain/chat/messages.ts';
import { createSendBatcher, type SendBatcher } from '../../domain/chat/sendBatcher.ts';
import { createCatchUpCoalescer, type CatchUpCoalescer } from '../../domain/chat/catchUp.ts';
import { markRead } from '../../domain/chat/reading.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { AppError } from '../../domain/shared/errors.ts';
import type { RateLimiter } from '../../domain/shared/stores.ts';
import { withAck, type On } from '../withAck.ts';

export interface ChatKit {
  deps: Deps;
  /** message:send goes through micro-batches: one transaction per few ms of messages, acks after commit. */
  batcher: SendBatcher;
  /** channel:join is served in batches too: the joins of a moment share one access check and one read per channel. */
  catchUp: CatchUpCoalescer;
  messageLimiter: RateLimiter;
  /** typing:start is throttled to one broadcast per user per 2 s. */
  typingLimiter: RateLimiter;
}

export function createChatKit(deps: Deps, options: { messagesPer10Seconds: number }): ChatKit {
  return {
    deps,
    batcher: createSendBatcher(deps),
    catchUp: createCatchUpCoalescer(deps),
    messageLimiter: deps.rateLimiterFactory({ keyPrefix: 'chat-send', points: options.messagesPer10Seconds, durationSeconds: 10 }),
    typingLimiter: deps.rateLimiterFactory({ keyPrefix: 'chat-typing', points: 1, durationSeconds: 2 }),
  };
}

/** Channel rooms, messages, reactions, typing and read state. Thin: validate → domain operation → ack. */
export function registerChatHandlers(on: On, chat: ChatKit) {
  const { deps } = chat;

  on(
    'channel:join',
    withAck(JoinChannelInput, async (input, { socket, actor }) => {
      // The check and the catch-up first: the socket enters the room only once the user may read the channel.
      const result = await chat.catchUp.join(actor, input);
      const room = rooms.channel(input.channelId);
      await socket.join(room);
      // A removal that landed between the check and the join made everyone leave the room before we were in it:
      // check again now that we are (a check read after this point, batched with the other joins), so a removed member
      // never stays.
      let lastSeqInRoom: number;
      try {
        lastSeqInRoom = await chat.catchUp.authorizeRead(actor, input.channelId);
      } catch (err) {
        await socket.leave(room);
        throw err;
      }
      // From here every new event reaches the socket live. One stored after the catch-up was read but announced
      // before the socket was in the room would reach it neither way, and nothing would reveal the gap until the
      // channel's next event: read those too (the client ignores any event at or below the last seq it applied).
      if (result.hasMore || lastSeqInRoom <= result.lastSeq) return result;
      const rest = await chat.catchUp.join(actor, { channelId: input.channelId, afterSeq: result.lastSeq });
      return { ...rest, events: [...result.events, ...rest.events] };
    }),
  );
  on(
    'channel:leave',
    withAck(ChannelIdInput, async (input, { socket }) => {
      await socket.leave(rooms.channel(input.channelId));
      return { channelId: input.channelId };
    }),
  );
  on(
    'message:send',
    withAck(SendMessageInput, async (input, { actor }) => {
      await chat.messageLimiter.consume(actor.userId, 1, 'You are sending messages too fast.');
      return chat.batcher.send(actor, input);
    }, { ownLimit: true }),
  );
  on('message:edit', withAck(EditMessageInput, (input, { actor }) => editMessage(deps, actor, input)));
  on('message:delete', withAck(MessageIdInput, (input, { actor }) => deleteMessage(deps, actor, input)));
  on('message:pin', withAck(PinMessageInput, (input, { actor }) => pinMessage(deps, actor, input)));
  on('reaction:toggle', withAck(ToggleReactionInput, (input, { actor }) => toggleReaction(deps, actor, input)));
  on('read:mark', withAck(MarkReadInput, (input, { actor }) => markRead(deps, actor, input)));
  on(
    'typing:start',
    withAck(ChannelIdInput, async (input, { socket, actor }) => {
      const room = rooms.channel(input.channelId);
      // Joining the room was the authorization decision; removal makes the socket leave it.
      if (!socket.rooms.has(room)) throw new AppError('forbidden', 'Join the channel first.');
      try {
        await chat.typingLimiter.consume(actor.userId);
      } catch (err) {
        if (err instanceof AppError && err.code === 'rate_limited') return null; // already announced within 2 s
        throw err;
      }
      socket.volatile.to(room).emit('typing', { channelId: input.channelId, userId: actor.userId, displayName: socket.data.displayName });
      return null;
    }),
  );
}
