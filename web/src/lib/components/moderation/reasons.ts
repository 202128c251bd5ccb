import type { CaseAction, REPORT_REASONS, ReportTargetType } from '$contracts/moderation.ts';

export type ReportReason = (typeof REPORT_REASONS)[number];

export const REASON_LABELS: Record<ReportReason, string> = {
  spam: 'Spam or advertising',
  harassment: 'Harassment or bullying',
  hate: 'Hate speech',
  sexual: 'Sexual content',
  violence: 'Violence or threats',
  self_harm: 'Self-harm',
  misinformation: 'Misinformation',
  other: 'Something else',
};

export const TARGET_LABELS: Record<ReportTargetType, string> = {
  message: 'Message',
  post: 'Post',
  comment: 'Comment',
  user: 'Person',
};

export const ACTION_LABELS: Record<CaseAction, string> = {
  dismiss: 'Dismiss',
  hide: 'Hide',
  delete: 'Delete',
  warn: 'Warn',
  timeout: 'Time out',
  kick: 'Kick',
  ban: 'Ban',
};

/** Past tense, for resolutions and the audit log. */
export const ACTION_DONE: Record<string, string> = {
  dismiss: 'dismissed',
  hide: 'hid the content',
  delete: 'deleted the content',
  warn: 'warned',
  timeout: 'timed out',
  kick: 'kicked',
  ban: 'banned',
  claim: 'claimed',
  unban: 'unbanned',
  suspend: 'suspended',
  unsuspend: 'restored',
  settings: 'changed the settings',
};

/** "2 × spam, 1 × harassment" from a case's reason counts. */
export function reasonSummary(reasons: Record<string, number>): string {
  return Object.entries(reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${REASON_LABELS[reason as ReportReason] ?? reason}${count > 1 ? ` (${count})` : ''}`)
    .join(', ');
}

/** "banned Bob", "hid a message by Bob", "changed the automod settings": what an audit entry records. */
export function auditSentence(entry: { action: string; targetType: string | null; targetUser: { displayName: string } | null; after?: unknown }): string {
  const whom = entry.targetUser?.displayName ?? null;
  const thing = entry.targetType && entry.targetType !== 'user' ? `a ${entry.targetType}` : 'content';
  switch (entry.action) {
    case 'hide':
      return `hid ${thing}${whom ? ` by ${whom}` : ''}`;
    case 'delete':
      return `deleted ${thing}${whom ? ` by ${whom}` : ''}`;
    case 'dismiss':
      return `dismissed a report${whom ? ` about ${whom}` : ''}`;
    case 'claim':
      return `claimed a case${whom ? ` about ${whom}` : ''}`;
    case 'settings':
      return 'changed the automod settings';
    case 'timeout': {
      const minutes = (entry.after as { minutes?: unknown } | null | undefined)?.minutes;
      return `timed out ${whom ?? 'someone'}${typeof minutes === 'number' ? ` for ${minutes} min` : ''}`;
    }
    default:
      return `${ACTION_DONE[entry.action] ?? entry.action} ${whom ?? 'someone'}`;
  }
}
