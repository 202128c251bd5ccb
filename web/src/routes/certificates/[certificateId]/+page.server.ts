import { error } from '@sveltejs/kit';
import { fetchCertificate } from '$lib/server/courses.ts';
import { uuidParam } from '$lib/server/load.ts';
import { generalMessage } from '$lib/forms.ts';
import type { PageServerLoad } from './$types';

/** Public: anyone holding a certificate's link may verify it, signed in or not. */
export const load: PageServerLoad = async (event) => {
  const certificateId = uuidParam(event.params.certificateId);
  const result = await fetchCertificate(event, certificateId);
  if (!result.ok) {
    if (result.status === 404) error(404, 'No certificate has this number. Check the link you were given.');
    error(result.status >= 500 ? 503 : result.status, generalMessage(result.error));
  }
  return { certificate: result.data.certificate, pdfUrl: `/api/v1/certificates/${certificateId}/pdf` };
};
