import type { RequestEvent } from '@sveltejs/kit';
import { CaseActionInput, type CaseDto, type CaseEnvelope } from '$contracts/moderation.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, formString, type FormFailure } from '$lib/forms.ts';
import { apiRequest } from './api.ts';

export const CASE_ACTION_FIELDS = ['reason', 'minutes'] as const;

/**
 * Runs a case action from the console's form (the pressed button names the action; the confirmation dialog adds
 * `hideRecentMessages=on` to a ban whose "also hide their messages" box is ticked).
 */
export async function actOnCase(event: RequestEvent, caseId: string): Promise<{ ok: true; kase: CaseDto } | { ok: false; status: number; failure: FormFailure }> {
  const form = await event.request.formData();
  const action = formString(form, 'action');
  const reason = formString(form, 'reason');
  const minutesText = formString(form, 'minutes').trim();
  const values = { action, reason, minutes: minutesText };
  // Minutes matter to a timeout (how long) and a kick (how long before rejoining); other actions ignore the field.
  const takesMinutes = action === 'timeout' || action === 'kick';
  const minutes = takesMinutes && minutesText ? (/^\d{1,6}$/.test(minutesText) ? Number(minutesText) : NaN) : undefined;
  const hideRecentMessages = action === 'ban' && formString(form, 'hideRecentMessages') === 'on';
  const parsed = CaseActionInput.safeParse({
    action,
    reason,
    ...(minutes !== undefined ? { minutes } : {}),
    ...(hideRecentMessages ? { hideRecentMessages } : {}),
  });
  if (!parsed.success) {
    const fieldErrors = fieldErrorsFromIssues(parsed.error.issues);
    if (Number.isNaN(minutes)) fieldErrors.minutes = 'Enter whole minutes.';
    return { ok: false, status: 400, failure: { values, fieldErrors, message: CHECK_FIELDS_MESSAGE } };
  }
  const result = await apiRequest<CaseEnvelope>(event, `/api/v1/moderation/cases/${caseId}/actions`, {
    method: 'POST',
    body: parsed.data,
    token: event.locals.accessToken,
  });
  if (!result.ok) return { ok: false, status: result.status, failure: failureFromApi(result.error, values, CASE_ACTION_FIELDS) };
  return { ok: true, kase: result.data.case };
}
