import { error } from '@sveltejs/kit';
import type { PostWithComments } from '$contracts/feed.ts';
import { apiRequest } from '$lib/server/api.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { PageServerLoad } from './$types';

/** One post with its first comments (a search result, a shared link); the feed around it is one link away. */
export const load: PageServerLoad = async (event) => {
  const communityId = uuidParam(event.params.communityId);
  const postId = uuidParam(event.params.postId);
  const result = dataOrError(await apiRequest<PostWithComments>(event, `/api/v1/posts/${postId}`, { token: event.locals.accessToken }));
  // A post lives in one community: another community's address for it is not a page.
  if (result.post.communityId !== communityId) error(404, 'This post does not exist or you cannot read it.');
  return { post: result.post, comments: result.comments, nextCommentsCursor: result.nextCommentsCursor };
};
