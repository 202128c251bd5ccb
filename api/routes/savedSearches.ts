import { z } from 'zod';
import { IdParam } from '../../contracts/communities.ts';
import { SavedSearchDto, SavedSearchInput, SavedSearchList } from '../../contracts/search.ts';
import { deleteSavedSearch, listSavedSearches, saveSearch, updateSavedSearch } from '../../domain/search/saved.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

const tags = ['search'];

/** A rename, an alert switched on or off, or both. */
const SavedSearchUpdate = z
  .strictObject({ name: SavedSearchInput.shape.name.optional(), alert: z.boolean().optional() })
  .refine((v) => v.name !== undefined || v.alert !== undefined, { message: 'Send a name, alert, or both.' })
  .describe('SavedSearchUpdate');

/** Saved searches, each with an optional alert when new results appear (domain/search/saved.ts). */
export function savedSearchRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/search/saved',
      summary: 'My saved searches, newest first',
      tags,
      auth: true,
      responses: { 200: { description: 'Saved searches', schema: SavedSearchList } },
    },
    async (ctx) => ({ data: await listSavedSearches(deps, actorOf(ctx)) }),
  );

  route(
    {
      method: 'post',
      path: '/search/saved',
      summary: 'Save a search (its /search query string), with an alert when new results appear; at most 20 each',
      tags,
      auth: true,
      body: SavedSearchInput,
      responses: { 201: { description: 'Saved', schema: SavedSearchDto } },
    },
    (ctx, { body }) => saveSearch(deps, actorOf(ctx), body),
  );

  route(
    {
      method: 'patch',
      path: '/search/saved/:id',
      summary: 'Rename a saved search of mine, or switch its alert on or off',
      tags,
      auth: true,
      params: IdParam,
      body: SavedSearchUpdate,
      responses: { 200: { description: 'Changed', schema: SavedSearchDto } },
    },
    (ctx, { params, body }) => updateSavedSearch(deps, actorOf(ctx), params.id, body),
  );

  route(
    {
      method: 'delete',
      path: '/search/saved/:id',
      summary: 'Remove a saved search of mine',
      tags,
      auth: true,
      params: IdParam,
      responses: { 204: { description: 'Removed' } },
    },
    async (ctx, { params }) => {
      await deleteSavedSearch(deps, actorOf(ctx), params.id);
    },
  );
}
