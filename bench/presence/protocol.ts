/**
 * What the presence bench (bench/presence.ts) and its load generators (bench/presence/loadClient.ts) say to each
 * other over Node's IPC channel (advanced serialization, so typed arrays travel as they are).
 */

/** One client: its user (an index into the scenario's user list), the node it talks to and the people it shows. */
export interface PresenceClientSpec {
  user: number;
  node: number;
  token: string;
  /** Users (indices) whose presence dots this client shows: what it sends in presence:watch. */
  watch: number[];
}

export type ToPresenceLoader =
  | {
      type: 'init';
      urls: string[];
      /** Every user id of the scenario; specs and reports refer to users by index into it. */
      userIds: string[];
      clients: PresenceClientSpec[];
      concurrency: number;
      ackTimeoutMs: number;
      unansweredLimit: number;
    }
  | { type: 'progress' }
  | { type: 'collect' }
  | { type: 'close' };

export interface LoaderProgress {
  type: 'progress';
  connected: number;
  /** Clients whose presence:watch was answered ok (all of their calls). */
  watched: number;
  /** presence:updated events received so far, over all clients. */
  updates: number;
  /** Epoch ms of the latest presence:updated (0: none yet). */
  lastUpdateAt: number;
  disconnects: number;
}

export interface LoaderReady {
  type: 'ready';
  connected: number;
  watched: number;
  /** Epoch ms when this generator's last client was connected and watching (or had failed). */
  doneAt: number;
  connectFailures: string[];
  /** presence:watch failures by error code (`ack_timeout`: no answer within the timeout). */
  watchErrors: Record<string, number>;
  /** Clients that never sent presence:watch because too many in a row went unanswered. */
  watchSkipped: number;
}

export interface LoaderReport {
  type: 'collected';
  clients: number;
  /** Per client: presence:updated received in total, about people not watched and not itself, about itself. */
  updatesPerClient: Uint32Array;
  leaksPerClient: Uint32Array;
  selfPerClient: Uint32Array;
  /** Entries in presence:watch acks for people the client did not ask about. */
  ackExtras: number;
  /** Entries in presence:watch acks, over all clients (people already online when asked). */
  ackEntries: number;
  /** Updates about a watched person that repeat what the client already shows (e.g. an arrival the ack already gave). */
  repeats: number;
  /** (client, watched person) pairs where the client does not show the person as online at collection time. */
  notShownOnline: number;
  /** Up to 10 examples: [client user, user it heard about] for leaked updates. */
  leakExamples: [string, string][];
  /** presence:rewatch received (the server asking a client to watch again). */
  rewatches: number;
  /** Milliseconds from opening the socket to `connect`, and from sending presence:watch to its ack. */
  connectMs: Float64Array;
  watchMs: Float64Array;
  disconnects: number;
  cpuMs: number;
}

export type FromPresenceLoader = LoaderReady | LoaderProgress | LoaderReport | { type: 'closed' } | { type: 'error'; message: string };
