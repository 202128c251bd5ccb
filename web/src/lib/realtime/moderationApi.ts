import type { AckResult } from '$contracts/errors.ts';
import type { CaseDto, CasePage, CaseStatus, CreateReportInput, ReportEnvelope } from '$contracts/moderation.ts';
import { callApi } from './restClient.ts';

/** The moderation calls the browser stores make; a seam so unit tests run without a server. */
export interface ModerationApi {
  cases(communityId: string, status: CaseStatus | undefined): Promise<AckResult<CaseDto[]>>;
}

export const moderationApi: ModerationApi = {
  async cases(communityId, status) {
    const query = new URLSearchParams({ limit: '100' });
    if (status) query.set('status', status);
    const result = await callApi<CasePage>('GET', `communities/${communityId}/moderation/cases?${query}`);
    return result.ok ? { ok: true, data: result.data.data } : result;
  },
};

/** Files a report; the answer's content does not matter to the reporter. */
export async function fileReport(input: CreateReportInput): Promise<AckResult<null>> {
  const result = await callApi<ReportEnvelope>('POST', 'reports', input);
  return result.ok ? { ok: true, data: null } : result;
}
