import { error, type RequestEvent } from '@sveltejs/kit';
import type { UserDto } from '$contracts/auth.ts';
import type { CommunityDto } from '$contracts/communities.ts';
import {
  CaseActionInput,
  ModerationSettingsInput,
  type AuditPage,
  type BanDto,
  type BanList,
  type CaseDetailDto,
  type CaseDetailEnvelope,
  type CaseDto,
  type CaseEnvelope,
  type CasePage,
  type ModerationSettingsDto,
  type ModerationSettingsEnvelope,
} from '$contracts/moderation.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, formString, type FormFailure } from '$lib/forms.ts';
import { apiRequest, mapResult, type ApiCaller, type ApiResult } from './api.ts';

interface Session {
  locals: App.Locals;
}
type Caller = ApiCaller & Session;

const RANK = { member: 0, moderator: 1, admin: 2, owner: 3 } as const;

/** Mirrors ModerationPolicy: community moderators and up, and platform moderators, see the console. */
export function consoleRights(community: CommunityDto, user: UserDto): { moderate: boolean; administer: boolean } {
  const rank = community.myRole ? RANK[community.myRole] : -1;
  return {
    moderate: rank >= RANK.moderator || user.role === 'moderator' || user.role === 'admin',
    administer: rank >= RANK.admin || user.role === 'admin',
  };
}

/** The console is for moderators; anyone else gets a plain 403 page (the API would refuse them anyway). */
export function requireRight(allowed: boolean, what = 'moderators'): void {
  if (!allowed) error(403, `Only this community's ${what} can open this page.`);
}

export async function fetchCases(event: Caller, communityId: string, status?: CaseDto['status']): Promise<ApiResult<CaseDto[]>> {
  const query = new URLSearchParams({ limit: '100' });
  if (status) query.set('status', status);
  const result = await apiRequest<CasePage>(event, `/api/v1/communities/${communityId}/moderation/cases?${query}`, {
    token: event.locals.accessToken,
  });
  return mapResult(result, (body) => body.data);
}

export async function fetchCase(event: Caller, caseId: string): Promise<ApiResult<CaseDetailDto>> {
  const result = await apiRequest<CaseDetailEnvelope>(event, `/api/v1/moderation/cases/${caseId}`, { token: event.locals.accessToken });
  return mapResult(result, (body) => body.case);
}

export function fetchAuditLog(event: Caller, communityId: string, cursor: string | null): Promise<ApiResult<AuditPage>> {
  const query = new URLSearchParams({ limit: '50' });
  if (cursor) query.set('cursor', cursor);
  return apiRequest<AuditPage>(event, `/api/v1/communities/${communityId}/audit-log?${query}`, { token: event.locals.accessToken });
}

export async function fetchBans(event: Caller, communityId: string): Promise<ApiResult<BanDto[]>> {
  const result = await apiRequest<BanList>(event, `/api/v1/communities/${communityId}/bans`, { token: event.locals.accessToken });
  return mapResult(result, (body) => body.data);
}

export async function fetchSettings(event: Caller, communityId: string): Promise<ApiResult<ModerationSettingsDto>> {
  const result = await apiRequest<ModerationSettingsEnvelope>(event, `/api/v1/communities/${communityId}/moderation/settings`, {
    token: event.locals.accessToken,
  });
  return mapResult(result, (body) => body.settings);
}

export const ACTION_FIELDS = ['reason', 'minutes'] as const;

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
  if (!result.ok) return { ok: false, status: result.status, failure: failureFromApi(result.error, values, ACTION_FIELDS) };
  return { ok: true, kase: result.data.case };
}

export const SETTINGS_FIELDS = ['words', 'mode', 'newMemberLinkLimit', 'slowMode'] as const;

/** Words from the textarea: one per line or separated by commas, duplicates dropped. */
export function parseWords(text: string): string[] {
  const seen = new Set<string>();
  const words: string[] = [];
  for (const raw of text.split(/[\n,]/)) {
    const word = raw.trim();
    if (!word || seen.has(word.toLowerCase())) continue;
    seen.add(word.toLowerCase());
    words.push(word);
  }
  return words;
}

/** Saves the settings form: the word filter, the new-member link limit and each channel's slow mode. */
export async function saveSettings(
  event: RequestEvent,
  communityId: string,
): Promise<{ ok: true; settings: ModerationSettingsDto } | { ok: false; status: number; failure: FormFailure }> {
  const form = await event.request.formData();
  const wordsText = formString(form, 'words');
  const mode = formString(form, 'mode') || 'block';
  const limitText = formString(form, 'newMemberLinkLimit').trim();
  const values: Record<string, string> = { words: wordsText, mode, newMemberLinkLimit: limitText };
  const fieldErrors: Record<string, string> = {};
  const slowMode: Record<string, number> = {};
  for (const [key, value] of form.entries()) {
    if (!key.startsWith('slow:') || typeof value !== 'string') continue;
    const channelId = key.slice('slow:'.length);
    values[key] = value;
    const seconds = value.trim() === '' ? 0 : /^\d{1,5}$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (Number.isNaN(seconds)) fieldErrors[key] = 'Enter whole seconds (0 turns slow mode off).';
    else slowMode[channelId] = seconds;
  }
  const limit = limitText === '' ? null : /^\d{1,3}$/.test(limitText) ? Number(limitText) : NaN;
  if (Number.isNaN(limit)) fieldErrors.newMemberLinkLimit = 'Enter a whole number, or leave it empty for no limit.';
  const parsed = ModerationSettingsInput.safeParse({
    wordFilter: { words: parseWords(wordsText), mode },
    newMemberLinkLimit: Number.isNaN(limit) ? null : limit,
    ...(Object.keys(slowMode).length > 0 ? { slowMode } : {}),
  });
  if (!parsed.success || Object.keys(fieldErrors).length > 0) {
    const issues = parsed.success ? {} : fieldErrorsFromIssues(parsed.error.issues);
    if (issues.wordFilter) issues.words = issues.wordFilter;
    return { ok: false, status: 400, failure: { values, fieldErrors: { ...issues, ...fieldErrors }, message: CHECK_FIELDS_MESSAGE } };
  }
  const result = await apiRequest<ModerationSettingsEnvelope>(event, `/api/v1/communities/${communityId}/moderation/settings`, {
    method: 'PATCH',
    body: parsed.data,
    token: event.locals.accessToken,
  });
  if (!result.ok) return { ok: false, status: result.status, failure: failureFromApi(result.error, values, SETTINGS_FIELDS) };
  return { ok: true, settings: result.data.settings };
}
