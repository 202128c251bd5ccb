import type { Ack, AckResult, ErrorBody } from '$contracts/errors.ts';
import { timeoutSentence } from '$lib/forms.ts';
import type { AppSocket } from './connection.svelte.ts';

/**
 * The part of the tab's Socket.IO socket the chat stores use. Typed from the contracts, so every emit and listener is
 * checked against the protocol; unit tests hand in a small fake with the same members.
 */
export type ChatSocket = Pick<AppSocket, 'emit' | 'on' | 'off' | 'connected'>;

export const DEFAULT_ACK_TIMEOUT_MS = 15_000;

export const NO_ANSWER: ErrorBody = { code: 'unavailable', message: 'No answer from the server. Check your connection.' };

/**
 * Wraps an emit that takes an ack into a promise that settles once: with the server's answer, or with `unavailable`
 * after `timeoutMs` (socket.io-client silently drops the acks of packets that were on the wire when it disconnected).
 */
export function ackOf<T>(send: (ack: Ack<T>) => void, timeoutMs = DEFAULT_ACK_TIMEOUT_MS): Promise<AckResult<T>> {
  return new Promise((resolve) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      resolve({ ok: false, error: NO_ANSWER });
    }, timeoutMs);
    try {
      send((result) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(isAckResult<T>(result) ? result : { ok: false, error: { code: 'internal', message: 'Unexpected answer from the server.' } });
      });
    } catch {
      settled = true;
      clearTimeout(timer);
      resolve({ ok: false, error: NO_ANSWER });
    }
  });
}

function isAckResult<T>(value: unknown): value is AckResult<T> {
  return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean';
}

/** The sentence shown for a failed chat action. */
export function chatErrorMessage(error: ErrorBody): string {
  switch (error.code) {
    case 'rate_limited': {
      const seconds = typeof error.retryAfter === 'number' && error.retryAfter > 0 ? Math.ceil(error.retryAfter) : null;
      return seconds === null ? 'You are sending too fast. Try again in a moment.' : `You are sending too fast. Try again in ${seconds} s.`;
    }
    case 'unavailable':
    case 'internal':
      return error.message || 'Edulure is not reachable right now.';
    case 'forbidden':
      return timeoutSentence(error) ?? (error.message || 'That is not allowed.');
    default:
      return error.message || 'That did not work.';
  }
}
