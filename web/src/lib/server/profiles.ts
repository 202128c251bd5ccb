import type { MyProfileDto, MyProfileEnvelope, PublicProfileDto, PublicProfileEnvelope } from '$contracts/profiles.ts';
import type { AssetEnvelope } from '$contracts/media.ts';
import { apiHeaders, apiRequest, internalApiOrigin, mapResult, toErrorBody, type ApiCaller, type ApiResult } from './api.ts';

type Caller = ApiCaller & { locals: App.Locals };

export async function fetchMyProfile(event: Caller): Promise<ApiResult<MyProfileDto>> {
  const result = await apiRequest<MyProfileEnvelope>(event, '/api/v1/me/profile', { token: event.locals.accessToken });
  return mapResult(result, (body) => body.profile);
}

export async function fetchPublicProfile(event: Caller, userId: string): Promise<ApiResult<PublicProfileDto>> {
  const result = await apiRequest<PublicProfileEnvelope>(event, `/api/v1/users/${userId}/profile`, { token: event.locals.accessToken });
  return mapResult(result, (body) => body.profile);
}

/**
 * Uploads an image from the profile form to the asset service (the same multipart upload the browser would send),
 * then makes it the avatar. The upload judges the type from the content and re-encodes images; the avatar route
 * refuses anything but an image.
 */
export async function uploadAvatar(event: Caller, file: File): Promise<ApiResult<MyProfileDto>> {
  const body = new FormData();
  body.append('file', file, file.name || 'avatar');
  let response: Response;
  try {
    response = await fetch(`${internalApiOrigin()}/api/v1/assets`, {
      method: 'POST',
      headers: apiHeaders(event, event.locals.accessToken, 'application/json'),
      body,
      signal: AbortSignal.timeout(60_000),
      redirect: 'manual',
    });
  } catch {
    return { ok: false, status: 503, error: { code: 'unavailable', message: 'The Edulure API is not reachable.' } };
  }
  const payload: unknown = await response.json().catch(() => undefined);
  if (!response.ok) return { ok: false, status: response.status, error: toErrorBody(response.status, payload) };
  const assetId = (payload as AssetEnvelope).asset.id;
  const result = await apiRequest<MyProfileEnvelope>(event, '/api/v1/me/profile/avatar', {
    method: 'PUT',
    body: { assetId },
    token: event.locals.accessToken,
  });
  return mapResult(result, (b) => b.profile);
}
