import type { ConnectErrorData } from '../contracts/realtime.ts';

/** A handshake refusal as the client receives it: `connect_error` with `err.data` = {code, message, retryAfter?}. */
export function connectError(data: ConnectErrorData): Error & { data: ConnectErrorData } {
  const err = new Error(data.message) as Error & { data: ConnectErrorData };
  err.data = data;
  return err;
}
