import { fail } from '@sveltejs/kit';
import type { CommunityPage } from '$contracts/communities.ts';
import {
  NOTIFICATION_KINDS,
  UpdateNotificationPreferencesInput,
  type NotificationPreferencesDto,
} from '$contracts/notifications.ts';
import { fieldErrorsFromIssues, formString, generalMessage, CHECK_FIELDS_MESSAGE, type FieldErrors } from '$lib/forms.ts';
import { apiRequest, type ApiCaller } from '$lib/server/api.ts';
import { dataOrError } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

const CHANNELS = ['inApp', 'email', 'push'] as const;
const PREFERENCES = '/api/v1/me/notification-preferences';
/** The community list has no "mine only" filter: read it in pages, up to this many communities. */
const COMMUNITY_PAGES = 10;

async function myCommunities(event: ApiCaller, token: string | null): Promise<{ id: string; name: string }[]> {
  const mine: { id: string; name: string }[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < COMMUNITY_PAGES; i++) {
    const query = new URLSearchParams({ limit: '100' });
    if (cursor) query.set('cursor', cursor);
    const page = dataOrError(await apiRequest<CommunityPage>(event, `/api/v1/communities?${query}`, { token }));
    for (const c of page.data) if (c.myRole !== null) mine.push({ id: c.id, name: c.name });
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return mine;
}

export const load: PageServerLoad = async (event) => {
  const token = event.locals.accessToken;
  const [preferences, communities] = await Promise.all([
    apiRequest<NotificationPreferencesDto>(event, PREFERENCES, { token }).then(dataOrError),
    myCommunities(event, token),
  ]);
  return { preferences, communities, timeZones: Intl.supportedValuesOf('timeZone') };
};

/** "07:30" → 450 minutes after midnight; '' → null; anything else → undefined. */
function minuteOfDay(value: string): number | null | undefined {
  if (value === '') return null;
  const match = /^(\d{2}):(\d{2})(?::\d{2})?$/.exec(value);
  if (!match) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  return hours < 24 && minutes < 60 ? hours * 60 + minutes : undefined;
}

type SaveFailure = { message: string; fieldErrors: FieldErrors };

export const actions: Actions = {
  save: async (event) => {
    const form = await event.request.formData();
    const token = event.locals.accessToken;
    const fieldErrors: FieldErrors = {};

    // Unticked boxes are not sent: every kind and channel is named, ticked or not.
    const kinds = Object.fromEntries(
      NOTIFICATION_KINDS.map((kind) => [kind, Object.fromEntries(CHANNELS.map((ch) => [ch, form.has(`${kind}.${ch}`)]))]),
    );

    const quietStart = minuteOfDay(formString(form, 'quietStart'));
    const quietEnd = minuteOfDay(formString(form, 'quietEnd'));
    if (quietStart === undefined) fieldErrors.quietStart = 'Enter a time such as 22:00.';
    if (quietEnd === undefined) fieldErrors.quietEnd = 'Enter a time such as 07:00.';
    if (quietStart === null && typeof quietEnd === 'number') fieldErrors.quietStart = 'Quiet hours need a start as well as an end.';
    if (quietEnd === null && typeof quietStart === 'number') fieldErrors.quietEnd = 'Quiet hours need an end as well as a start.';
    if (Object.keys(fieldErrors).length > 0) {
      return fail(400, { save: { message: CHECK_FIELDS_MESSAGE, fieldErrors } satisfies SaveFailure });
    }

    // Communities listed on the page follow their boxes; a mute for one not listed (left since) stays as it was.
    const shown = new Set(form.getAll('community').filter((v) => typeof v === 'string'));
    const ticked = form.getAll('muted').filter((v): v is string => typeof v === 'string' && shown.has(v));
    const current = await apiRequest<NotificationPreferencesDto>(event, PREFERENCES, { token });
    if (!current.ok) return fail(current.status, { save: { message: generalMessage(current.error), fieldErrors } satisfies SaveFailure });
    const mutedCommunityIds = [...new Set([...current.data.mutedCommunityIds.filter((id) => !shown.has(id)), ...ticked])];

    const parsed = UpdateNotificationPreferencesInput.safeParse({
      kinds,
      mutedCommunityIds,
      quietStart,
      quietEnd,
      timeZone: formString(form, 'timeZone'),
    });
    if (!parsed.success) {
      return fail(400, {
        save: { message: CHECK_FIELDS_MESSAGE, fieldErrors: fieldErrorsFromIssues(parsed.error.issues) } satisfies SaveFailure,
      });
    }
    const result = await apiRequest<NotificationPreferencesDto>(event, PREFERENCES, { method: 'PUT', body: parsed.data, token });
    if (!result.ok) return fail(result.status, { save: { message: generalMessage(result.error), fieldErrors } satisfies SaveFailure });
    return { saved: true as const };
  },

  resubscribe: async (event) => {
    const result = await apiRequest<NotificationPreferencesDto>(event, PREFERENCES, {
      method: 'PUT',
      body: { emailUnsubscribed: false },
      token: event.locals.accessToken,
    });
    if (!result.ok) return fail(result.status, { resubscribe: { message: generalMessage(result.error) } });
    return { resubscribed: true as const };
  },
};
