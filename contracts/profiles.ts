import { z } from 'zod';
import { UserRef } from './communities.ts';
import {
  AVATAR_MAX_BYTES,
  BIO_MAX_LENGTH,
  DISPLAY_NAME_MAX_LENGTH,
  DISPLAY_NAME_MIN_LENGTH,
  HEADLINE_MAX_LENGTH,
} from './values/profiles.ts';

export { AVATAR_MAX_BYTES, BIO_MAX_LENGTH, DISPLAY_NAME_MAX_LENGTH, DISPLAY_NAME_MIN_LENGTH, HEADLINE_MAX_LENGTH };

/** `PUT /me/profile`: the whole editable profile at once (the avatar has its own routes). Plain text throughout. */
export const UpdateProfileInput = z
  .strictObject({
    displayName: z
      .string()
      .trim()
      .min(DISPLAY_NAME_MIN_LENGTH, `Display name needs at least ${DISPLAY_NAME_MIN_LENGTH} characters.`)
      .max(DISPLAY_NAME_MAX_LENGTH, `Display name can be at most ${DISPLAY_NAME_MAX_LENGTH} characters.`),
    headline: z
      .string()
      .trim()
      .max(HEADLINE_MAX_LENGTH, `Headline can be at most ${HEADLINE_MAX_LENGTH} characters.`)
      .refine((v) => !/[\r\n]/.test(v), 'Headline is one line: remove the line breaks.'),
    bio: z.string().trim().max(BIO_MAX_LENGTH, `Bio can be at most ${BIO_MAX_LENGTH.toLocaleString('en')} characters.`),
  })
  .describe('UpdateProfileInput');
export type UpdateProfileInput = z.infer<typeof UpdateProfileInput>;

/** `PUT /me/profile/avatar`: an image uploaded first through `POST /assets`. */
export const SetAvatarInput = z
  .strictObject({ assetId: z.uuid({ message: 'Upload the image first and send its asset id.' }) })
  .describe('SetAvatarInput');
export type SetAvatarInput = z.infer<typeof SetAvatarInput>;

/** My own profile, as the settings page edits it. */
export const MyProfileDto = z
  .object({
    id: z.uuid(),
    displayName: z.string(),
    headline: z.string(),
    bio: z.string(),
    /** A stable URL of the avatar image (it changes when the avatar does); null without an avatar. */
    avatarUrl: z.string().nullable(),
  })
  .describe('MyProfile');
export type MyProfileDto = z.infer<typeof MyProfileDto>;
export const MyProfileEnvelope = z.object({ profile: MyProfileDto }).describe('MyProfileEnvelope');
export type MyProfileEnvelope = z.infer<typeof MyProfileEnvelope>;

/** Someone's public card: what any signed-in person may see of them, with the communities we both belong to. */
export const PublicProfileDto = MyProfileDto.extend({
  communitiesInCommon: z.array(z.object({ id: z.uuid(), name: z.string() })),
  /** Member since. */
  createdAt: z.iso.datetime(),
}).describe('PublicProfile');
export type PublicProfileDto = z.infer<typeof PublicProfileDto>;
export const PublicProfileEnvelope = z.object({ profile: PublicProfileDto }).describe('PublicProfileEnvelope');
export type PublicProfileEnvelope = z.infer<typeof PublicProfileEnvelope>;

/** A person with their avatar, for lists that show faces (member lists, message authors). */
export const ProfileRef = UserRef.extend({ avatarUrl: z.string().nullable() }).describe('ProfileRef');
export type ProfileRef = z.infer<typeof ProfileRef>;
