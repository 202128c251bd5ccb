import type { Deps } from '../../domain/shared/deps.ts';
import type { IoSocket } from '../types.ts';
import type { AckKit } from '../withAck.ts';

/** Channel rooms, messages, reactions, typing and read state. */
export function registerChatHandlers(_kit: AckKit, _socket: IoSocket, _deps: Deps) {}
