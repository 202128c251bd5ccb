import type { RtcTokenDto } from '$contracts/classrooms.ts';
import type { AckResult, ErrorBody } from '$contracts/errors.ts';

/** A video token for a class through the web server (which holds the session); failures in the shared error shape. */
export async function fetchRtcToken(classroomId: string): Promise<AckResult<RtcTokenDto>> {
  let response: Response;
  try {
    response = await fetch(`/app/api/classrooms/${encodeURIComponent(classroomId)}/rtc-token`, {
      method: 'POST',
      headers: { accept: 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    return { ok: false, error: { code: 'unavailable', message: 'Edulure is not reachable right now.' } };
  }
  const body: unknown = await response.json().catch(() => null);
  if (response.ok && body !== null) return { ok: true, data: body as RtcTokenDto };
  const error = (body as { error?: ErrorBody } | null)?.error;
  return {
    ok: false,
    error: error?.code ? error : { code: response.status === 503 ? 'unavailable' : 'internal', message: `The request failed (HTTP ${response.status}).` },
  };
}
