import { fail } from '@sveltejs/kit';
import { UpdateBundleInput, type BundleDto, type ProductDto } from '$contracts/commerce.ts';
import { failureFromApi, formString } from '$lib/forms.ts';
import { apiRequest } from '$lib/server/api.ts';
import { fetchProduct } from '$lib/server/commerce.ts';
import { dataOrError, uuidParam } from '$lib/server/load.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const bundleId = uuidParam(event.params.bundleId);
  const token = event.locals.accessToken;
  // Published bundles for everyone; a draft or archived one answers only its seller (anyone else: not found).
  const bundle = dataOrError(await apiRequest<BundleDto>(event, `/api/v1/bundles/${bundleId}`, { token }));
  // The product view says who sells it and whether I already hold every item; only a bundle on sale has one.
  const product = bundle.status === 'published' ? await fetchProduct(event, bundleId) : null;
  const sale: Pick<ProductDto, 'owned' | 'seller'> | null = product?.ok ? { owned: product.data.owned, seller: product.data.seller } : null;
  return {
    bundle,
    sale,
    // Only the seller ever sees an unpublished bundle, so seeing one means it is mine.
    mine: bundle.status !== 'published' || sale?.seller.id === event.locals.user?.id,
  };
};

export const actions: Actions = {
  status: async (event) => {
    const bundleId = uuidParam(event.params.bundleId);
    const form = await event.request.formData();
    const parsed = UpdateBundleInput.safeParse({ status: formString(form, 'status') });
    if (!parsed.success) return fail(400, { message: 'Choose publish or archive.' });
    const result = await apiRequest<BundleDto>(event, `/api/v1/bundles/${bundleId}`, { method: 'PATCH', body: parsed.data, token: event.locals.accessToken });
    if (!result.ok) return fail(result.status, { message: failureFromApi(result.error, {}, []).message });
    return { message: null };
  },
};
