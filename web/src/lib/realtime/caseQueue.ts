import type { CaseDto, CaseStatus } from '$contracts/moderation.ts';

/** What the console lists: the cases that need someone (open or claimed), one status, or everything. */
export type CaseFilter = 'active' | CaseStatus | 'all';

export const CASE_FILTERS: readonly { value: CaseFilter; label: string }[] = [
  { value: 'active', label: 'Needs action' },
  { value: 'open', label: 'Open' },
  { value: 'claimed', label: 'Claimed' },
  { value: 'resolved', label: 'Resolved' },
  { value: 'dismissed', label: 'Dismissed' },
  { value: 'all', label: 'All' },
];

/** The `status=` values to ask the API for, one request each (`undefined`: no filter). */
export function statusesFor(filter: CaseFilter): (CaseStatus | undefined)[] {
  if (filter === 'active') return ['open', 'claimed'];
  if (filter === 'all') return [undefined];
  return [filter];
}

export function matchesFilter(kase: CaseDto, filter: CaseFilter): boolean {
  if (filter === 'all') return true;
  if (filter === 'active') return kase.status === 'open' || kase.status === 'claimed';
  return kase.status === filter;
}

const time = (iso: string) => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
};

/**
 * Whether `incoming` should replace `current`: a list that was read before a live update must not undo it, so the
 * newer `updatedAt` wins (a tie goes to the incoming copy: same moment, and events arrive after their commit).
 */
export function isNewer(incoming: CaseDto, current: CaseDto | undefined): boolean {
  return !current || time(incoming.updatedAt) >= time(current.updatedAt);
}

/** Merges cases into a map by id, keeping the newest copy of each. Returns true when anything changed. */
export function mergeCases(into: Map<string, CaseDto>, cases: readonly CaseDto[]): boolean {
  let changed = false;
  for (const kase of cases) {
    const current = into.get(kase.id);
    if (current === kase || !isNewer(kase, current)) continue;
    into.set(kase.id, kase);
    changed = true;
  }
  return changed;
}

/**
 * The cases to show for a filter, newest report first (a case keeps its place when it is claimed or gets more
 * reports, so the list does not shuffle under the moderator's pointer).
 */
export function visibleCases(cases: Iterable<CaseDto>, filter: CaseFilter): CaseDto[] {
  return [...cases]
    .filter((k) => matchesFilter(k, filter))
    .sort((a, b) => time(b.createdAt) - time(a.createdAt) || b.id.localeCompare(a.id));
}
