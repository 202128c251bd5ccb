import { CreatePostInput, FEED_POLL_MAX_OPTIONS, type FeedPage, type PostDto, type PostEnvelope, type PostWithComments } from '$contracts/feed.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, formString, type FieldErrors, type FormFailure } from '$lib/forms.ts';
import { apiRequest, type ApiCaller, type ApiResult } from './api.ts';

interface Session {
  locals: App.Locals;
}

export const FEED_PAGE_SIZE = 20;

/** The first page of a community's feed, or of the home feed when `communityId` is null. */
export function fetchFeed(event: ApiCaller & Session, communityId: string | null): Promise<ApiResult<FeedPage>> {
  const path = communityId ? `/api/v1/communities/${communityId}/feed` : '/api/v1/feed';
  return apiRequest<FeedPage>(event, `${path}?limit=${FEED_PAGE_SIZE}`, { token: event.locals.accessToken });
}

/**
 * The first page of a community's feed with the post a link pointed at (`?post=<id>`, e.g. from a notification) on
 * top when it is not on that page already; a post the caller may not read is simply not added.
 */
export async function fetchFeedShowing(event: ApiCaller & Session, communityId: string, postId: string | null): Promise<ApiResult<FeedPage>> {
  const page = await fetchFeed(event, communityId);
  if (!page.ok || !postId || !/^[0-9a-f-]{36}$/i.test(postId) || page.data.data.some((p) => p.id === postId)) return page;
  const linked = await apiRequest<PostWithComments>(event, `/api/v1/posts/${postId}`, { token: event.locals.accessToken });
  if (!linked.ok || linked.data.post.communityId !== communityId) return page;
  return { ...page, data: { ...page.data, data: [linked.data.post, ...page.data.data] } };
}

export const POST_FIELDS = ['kind', 'body', 'linkUrl', 'question', 'options'] as const;

/** Where a zod issue belongs on the composer: poll.question → question, poll.options.2 → options. */
function fieldOf(path: readonly PropertyKey[]): string {
  if (path[0] === 'poll') return path[1] === 'question' ? 'question' : 'options';
  return typeof path[0] === 'string' ? path[0] : 'body';
}

export type ComposerFailure = FormFailure & { options: string[] };

/**
 * Creates a post from the composer's form. A poll's text is optional on the form (the question says it all), so the
 * question stands in for it.
 */
export async function createPost(
  event: ApiCaller & Session & { request: Request },
  communityId: string,
): Promise<{ ok: true; post: PostDto } | { ok: false; status: number; failure: ComposerFailure }> {
  const form = await event.request.formData();
  const kind = formString(form, 'kind') || 'text';
  const body = formString(form, 'body');
  const linkUrl = formString(form, 'linkUrl').trim();
  const question = formString(form, 'question');
  const options = form
    .getAll('option')
    .filter((v): v is string => typeof v === 'string')
    .slice(0, FEED_POLL_MAX_OPTIONS);
  const values = { kind, body, linkUrl, question, options: '' };
  const filled = options.map((o) => o.trim()).filter(Boolean);
  const parsed = CreatePostInput.safeParse({
    kind,
    body: kind === 'poll' && !body.trim() ? question : body,
    ...(kind === 'link' ? { linkUrl } : {}),
    ...(kind === 'poll' ? { poll: { question, options: filled } } : {}),
  });
  if (!parsed.success) {
    const fieldErrors: FieldErrors = {};
    for (const issue of parsed.error.issues) fieldErrors[fieldOf(issue.path)] ??= issue.message;
    if (kind === 'poll' && filled.length < 2) fieldErrors.options = 'Give at least two options.';
    return { ok: false, status: 400, failure: { values, fieldErrors, message: CHECK_FIELDS_MESSAGE, options } };
  }
  const result = await apiRequest<PostEnvelope>(event, `/api/v1/communities/${communityId}/posts`, {
    method: 'POST',
    body: parsed.data,
    token: event.locals.accessToken,
  });
  if (!result.ok) return { ok: false, status: result.status, failure: { ...failureFromApi(result.error, values, POST_FIELDS), options } };
  return { ok: true, post: result.data.post };
}
