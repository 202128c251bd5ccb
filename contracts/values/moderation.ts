// Plain values the moderation schemas (../moderation.ts) are built from and the web client shows. No zod here: a page
// that only lists the reasons does not ship the validation library (the server validates every report anyway).

export const REPORT_REASONS = ['spam', 'harassment', 'hate', 'sexual', 'violence', 'self_harm', 'misinformation', 'other'] as const;
