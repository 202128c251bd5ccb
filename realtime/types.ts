import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '../contracts/realtime.ts';

/**
 * Cross-node work goes through the adapter (rooms) or the session bus; the one inter-server event is for state only
 * each node knows: which of its sockets follow whom (`presence:revoke`, realtime/presence.ts).
 */
export interface InterServerEvents {
  'presence:revoke': (userId: string) => void;
}
export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
