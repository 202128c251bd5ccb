// Plain values the feed schemas (../feed.ts) are built from and the web client checks against. No zod here: a page
// that only needs a limit does not ship the validation library (the server validates every input anyway).

export const POST_BODY_MAX = 10_000;
export const FEED_POLL_MAX_OPTIONS = 10;
