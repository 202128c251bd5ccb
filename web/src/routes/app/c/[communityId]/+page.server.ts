import { fail, redirect } from '@sveltejs/kit';
import { CreateTierInput } from '$contracts/commerce.ts';
import { toMinor } from '$lib/components/commerce/money.ts';
import { cancelSubscription, createTier, fetchTiers, setTierActive } from '$lib/server/commerce.ts';
import { CreateChannelInput, type ChannelEnvelope, type CommunityEnvelope, type InviteDto } from '$contracts/communities.ts';
import { CHECK_FIELDS_MESSAGE, failureFromApi, fieldErrorsFromIssues, formString, generalMessage } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import { uuidParam } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

const CHANNEL_FIELDS = ['name', 'visibility', 'topic'] as const;
const TIER_FIELDS = ['name', 'description', 'price', 'currency', 'interval'] as const;

/** The community's membership tiers (paid communities are joined by buying one); none when commerce is unavailable. */
export const load: PageServerLoad = async (event) => {
  const tiers = await fetchTiers(event, uuidParam(event.params.communityId));
  return { tiers: tiers.ok ? tiers.data : null };
};

export const actions: Actions = {
  join: async (event) => {
    const communityId = uuidParam(event.params.communityId);
    const result = await apiRequest<CommunityEnvelope>(event, `/api/v1/communities/${communityId}/join`, {
      method: 'POST',
      token: event.locals.accessToken,
    });
    if (!result.ok && result.error.code !== 'conflict') {
      return fail(result.status, { join: { message: generalMessage(result.error) } });
    }
    redirect(303, `/app/c/${communityId}`);
  },

  createChannel: async (event) => {
    const communityId = uuidParam(event.params.communityId);
    const form = await event.request.formData();
    const values = Object.fromEntries(CHANNEL_FIELDS.map((f) => [f, formString(form, f)]));
    const parsed = CreateChannelInput.safeParse({ ...values, visibility: values.visibility || 'public' });
    if (!parsed.success) {
      return fail(400, {
        createChannel: { values, fieldErrors: fieldErrorsFromIssues(parsed.error.issues), message: CHECK_FIELDS_MESSAGE },
      });
    }
    const result = await apiRequest<ChannelEnvelope>(event, `/api/v1/communities/${communityId}/channels`, {
      method: 'POST',
      body: parsed.data,
      token: event.locals.accessToken,
    });
    if (!result.ok) {
      return fail(result.status, { createChannel: failureFromApi(result.error, values, CHANNEL_FIELDS, 'name') });
    }
    redirect(303, `/app/c/${communityId}/${result.data.channel.id}`);
  },

  createTier: async (event) => {
    const communityId = uuidParam(event.params.communityId);
    const form = await event.request.formData();
    const values = Object.fromEntries(TIER_FIELDS.map((f) => [f, formString(form, f).trim()])) as Record<(typeof TIER_FIELDS)[number], string>;
    const currency = values.currency.toUpperCase();
    const priceMinor = currency ? toMinor(values.price, currency) : null;
    const parsed = CreateTierInput.safeParse({
      name: values.name,
      description: values.description,
      priceMinor: priceMinor ?? -1,
      currency,
      interval: values.interval || 'month',
    });
    if (!parsed.success || priceMinor === null) {
      const fieldErrors: Record<string, string> = parsed.success ? {} : fieldErrorsFromIssues(parsed.error.issues);
      if (priceMinor === null || fieldErrors.priceMinor) fieldErrors.price = 'A price such as 9.00.';
      delete fieldErrors.priceMinor;
      return fail(400, { tier: { values, fieldErrors, message: CHECK_FIELDS_MESSAGE } });
    }
    const result = await createTier(event, communityId, parsed.data);
    if (!result.ok) {
      const failure = failureFromApi(result.error, values, [...TIER_FIELDS, 'priceMinor']);
      const fieldErrors: Record<string, string> = { ...failure.fieldErrors };
      if (fieldErrors.priceMinor) fieldErrors.price = fieldErrors.priceMinor;
      delete fieldErrors.priceMinor;
      return fail(result.status, { tier: { ...failure, fieldErrors } });
    }
    return { tierCreated: true };
  },

  tierActive: async (event) => {
    const form = await event.request.formData();
    const tierId = uuidParam(formString(form, 'tierId'));
    const result = await setTierActive(event, tierId, formString(form, 'active') === 'true');
    if (!result.ok) return fail(result.status, { tierToggle: { tierId, message: generalMessage(result.error) } });
    return { tierToggle: { tierId, message: null } };
  },

  cancelSubscription: async (event) => {
    const form = await event.request.formData();
    const result = await cancelSubscription(event, uuidParam(formString(form, 'subscriptionId')));
    if (!result.ok) return fail(result.status, { cancelSubscription: { message: generalMessage(result.error) } });
    return { cancelSubscription: { message: null } };
  },

  invite: async (event) => {
    const communityId = uuidParam(event.params.communityId);
    const result = await apiRequest<InviteDto>(event, `/api/v1/communities/${communityId}/invites`, {
      method: 'POST',
      token: event.locals.accessToken,
    });
    if (!result.ok) return fail(result.status, { invite: { message: generalMessage(result.error), code: null } });
    const { code, expiresAt } = result.data;
    return { invite: { message: null, code, expiresAt } };
  },
};
