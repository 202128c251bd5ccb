// Plain values the chat schemas (../chat.ts) are built from and the web client checks against. No zod here: a page
// that only needs a limit does not ship the validation library (the server validates every input anyway).

export const MESSAGE_MAX_LENGTH = 4000;
/** Messages may be edited by their author for this long (seconds). */
export const EDIT_WINDOW_SECONDS = 15 * 60;

/** A socket follows at most this many people's presence at once (a few pages' worth of dots). */
export const PRESENCE_WATCH_LIMIT = 1000;
/** `presence:watch` adds at most this many people per request. */
export const PRESENCE_WATCH_ADD_MAX = 200;
