// Plain values the profile schemas (../profiles.ts) are built from and the profile page shows (no zod here).

export const DISPLAY_NAME_MIN_LENGTH = 2;
export const DISPLAY_NAME_MAX_LENGTH = 60;
export const HEADLINE_MAX_LENGTH = 120;
export const BIO_MAX_LENGTH = 2000;
/** The largest image accepted as an avatar (after the upload's re-encoding); it is shown as its 320 px thumbnail. */
export const AVATAR_MAX_BYTES = 5 * 1024 * 1024;
