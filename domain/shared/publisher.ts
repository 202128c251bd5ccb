import type { ServerToClientEvents, SessionRevokedPayload } from '../../contracts/realtime.ts';

/**
 * The one way the domain reaches connected clients, whatever node they are on. The realtime layer implements it
 * (Socket.IO rooms through the cluster adapter); the domain calls it only after its transaction has committed.
 */
export interface Publisher {
  /** One emit to the union of the rooms (a socket in several of them gets it once). */
  toRoom<E extends keyof ServerToClientEvents>(
    room: string | readonly string[],
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void;
  /** Tells the session's sockets on every node (`session:revoked`) and then disconnects them. */
  revokeSession(payload: SessionRevokedPayload): Promise<void>;
  /** Makes every socket in `whoRoom` (e.g. a user's room) leave `room`, on every node. */
  leaveRoom(whoRoom: string, room: string): void;
  /** Makes every socket in `whoRoom` join `room`, on every node (e.g. a new member's community room). */
  joinRoom(whoRoom: string, room: string): void;
  /**
   * Whose presence this person may see, or who may see theirs, may have shrunk (they left a community): every socket
   * following them, and each of their own sockets, stops following and is asked to follow again (checked anew).
   */
  revokePresence(userId: string): void;
}

/** For processes with no realtime layer (scripts, seeders). */
export const silentPublisher: Publisher = {
  toRoom() {},
  async revokeSession() {},
  leaveRoom() {},
  joinRoom() {},
  revokePresence() {},
};
