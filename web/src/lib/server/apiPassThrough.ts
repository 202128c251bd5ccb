/**
 * The REST calls the browser may make through the web server (`/app/api/v1/...`), with the session's token added
 * there. Anything else — accounts, sessions, community administration — goes through pages and form actions.
 */
const ID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

const ROUTES: readonly [methods: string, pattern: string][] = [
  // Feed
  ['GET', 'feed'],
  ['GET', `communities/${ID}/feed`],
  ['POST', `communities/${ID}/posts`],
  ['GET PATCH DELETE', `posts/${ID}`],
  ['GET POST', `posts/${ID}/comments`],
  ['POST', `posts/${ID}/pin`],
  ['POST', `posts/${ID}/reactions`],
  ['POST', `posts/${ID}/poll/vote`],
  ['PATCH DELETE', `comments/${ID}`],
  ['POST', `comments/${ID}/reactions`],
  // People
  ['POST DELETE', `users/${ID}/(follow|mute|block)`],
  ['GET', `users/${ID}/relationship`],
  ['GET', 'users/blocks'],
  // Reports and moderation
  ['POST', 'reports'],
  ['GET', `communities/${ID}/moderation/cases`],
  ['GET', `moderation/cases/${ID}`],
  ['POST', `moderation/cases/${ID}/(claim|actions)`],
  ['GET POST', `communities/${ID}/bans`],
  ['DELETE', `communities/${ID}/bans/${ID}`],
  ['GET', `communities/${ID}/audit-log`],
  ['GET PATCH', `communities/${ID}/moderation/settings`],
  // Learning: courses, lessons, progress, quizzes, ebooks (learner side)
  ['GET', 'courses'],
  ['GET', `courses/${ID}`],
  ['GET', `courses/${ID}/progress`],
  ['GET', 'me/courses'],
  ['GET', 'ebooks'],
  ['GET', `ebooks/${ID}`],
  ['GET POST', `ebooks/${ID}/(highlights|bookmarks)`],
  ['PATCH DELETE', `ebooks/${ID}/highlights/${ID}`],
  ['DELETE', `ebooks/${ID}/bookmarks/${ID}`],
  // Positions are PUTs: listed for when the pass-through handles PUT; until then the pages save them through their
  // own narrow routes (app/courses/…/position, app/ebooks/…/position).
  ['PUT', `(lessons|ebooks)/${ID}/position`],
  // Teaching: course and ebook authoring, uploads, grading, analytics
  // (authoring itself goes through the builder's form actions; the browser only uploads files, streamed as multipart
  // by the pass-through, and reads back an upload it owns)
  ['POST', 'assets'],
  ['GET', `assets/${ID}`],
  // Commerce: the live price at checkout and the order a page follows (buying itself goes through form actions)
  ['GET', `products/${ID}`],
  ['POST', 'checkout/quote'],
  ['GET', `orders/${ID}`],
  ['GET', 'me/orders'],
  // Notifications: the bell, its dropdown and the notifications page
  ['GET', 'notifications'],
  ['GET', 'notifications/unread-count'],
  ['POST', 'notifications/read'],
];

const COMPILED = ROUTES.map(([methods, pattern]) => ({ methods: methods.split(' '), pattern: new RegExp(`^${pattern}$`) }));

export function allowedApiCall(method: string, path: string): boolean {
  return COMPILED.some((r) => r.methods.includes(method) && r.pattern.test(path));
}

const QUERY_KEYS = ['cursor', 'limit', 'status', 'level', 'tag', 'communityId', 'userIds'];
/** Longest value forwarded per key: 500 characters, or 100 comma-separated ids for `userIds`. */
const MAX_VALUE_LENGTH: Record<string, number> = { userIds: 100 * 37 };

/** The query parameters the listed GETs take; everything else is dropped. */
export function forwardedQuery(params: URLSearchParams): string {
  const query = new URLSearchParams();
  for (const key of QUERY_KEYS) {
    const value = params.get(key);
    if (value !== null && value.length <= (MAX_VALUE_LENGTH[key] ?? 500)) query.set(key, value);
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}
