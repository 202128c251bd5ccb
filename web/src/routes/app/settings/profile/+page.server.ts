import { fail } from '@sveltejs/kit';
import { MyProfileEnvelope, UpdateProfileInput } from '$contracts/profiles.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, formString, generalMessage, type FormFailure } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import { dataOrError } from '$lib/server/load.ts';
import { fetchMyProfile, uploadAvatar } from '$lib/server/profiles.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['displayName', 'headline', 'bio'] as const;

export const load: PageServerLoad = async (event) => ({ profile: dataOrError(await fetchMyProfile(event)) });

/** Each form's result sits under its own key, so the avatar's errors never show beside the text fields. */
export const actions: Actions = {
  profile: async (event) => {
    const form = await event.request.formData();
    const values = { displayName: formString(form, 'displayName'), headline: formString(form, 'headline'), bio: formString(form, 'bio') };
    const parsed = UpdateProfileInput.safeParse(values);
    if (!parsed.success) {
      const failure: FormFailure = { values, fieldErrors: fieldErrorsFromIssues(parsed.error.issues), message: CHECK_FIELDS_MESSAGE };
      return fail(400, { profile: failure });
    }
    const result = await apiRequest<MyProfileEnvelope>(event, '/api/v1/me/profile', {
      method: 'PUT',
      body: parsed.data,
      token: event.locals.accessToken,
    });
    if (!result.ok) return fail(result.status, { profile: failureFromApi(result.error, values, FIELDS) });
    return { profile: { saved: true as const } };
  },

  avatar: async (event) => {
    const form = await event.request.formData();
    const file = form.get('avatar');
    if (!(file instanceof File) || file.size === 0) return fail(400, { avatar: { message: 'Choose an image to upload.' } });
    const result = await uploadAvatar(event, file);
    if (!result.ok) return fail(result.status, { avatar: { message: generalMessage(result.error) } });
    return { avatar: { message: null, saved: 'Your new picture is saved.' } };
  },

  removeAvatar: async (event) => {
    const result = await apiRequest<MyProfileEnvelope>(event, '/api/v1/me/profile/avatar', { method: 'DELETE', token: event.locals.accessToken });
    if (!result.ok) return fail(result.status, { avatar: { message: generalMessage(result.error) } });
    return { avatar: { message: null, saved: 'Your picture was removed.' } };
  },
};
