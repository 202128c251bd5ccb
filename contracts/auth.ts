import { z } from 'zod';

export const PLATFORM_ROLES = ['user', 'instructor', 'moderator', 'admin'] as const;
export type PlatformRole = (typeof PLATFORM_ROLES)[number];

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

const email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: 'Enter a valid e-mail address.' }))
  .transform((value) => value.toLowerCase());

export const RegisterInput = z
  .strictObject({
    email,
    password: z.string().max(PASSWORD_MAX_LENGTH, 'Password is too long.'),
    displayName: z
      .string()
      .trim()
      .min(2, 'Display name needs at least 2 characters.')
      .max(60, 'Display name can be at most 60 characters.'),
  })
  .describe('RegisterInput');
export type RegisterInput = z.infer<typeof RegisterInput>;

export const LoginInput = z
  .strictObject({
    email,
    password: z.string().min(1, 'Enter your password.').max(PASSWORD_MAX_LENGTH),
  })
  .describe('LoginInput');
export type LoginInput = z.infer<typeof LoginInput>;

export const RefreshInput = z
  .strictObject({
    // Optional: browsers send the httpOnly cookie instead.
    refreshToken: z.string().min(1).max(512).optional(),
  })
  .describe('RefreshInput');
export type RefreshInput = z.infer<typeof RefreshInput>;

export const VerifyEmailInput = z.strictObject({ token: z.string().min(1).max(512) }).describe('VerifyEmailInput');
export type VerifyEmailInput = z.infer<typeof VerifyEmailInput>;

const linkToken = z.string().trim().min(1, 'This link is incomplete. Open the link from the e-mail again.').max(512);
const newPassword = z.string().min(1, 'Enter a new password.').max(PASSWORD_MAX_LENGTH, 'Password is too long.');

/** Asks for a password-reset link; answered the same whether or not the address has an account. */
export const PasswordResetRequestInput = z.strictObject({ email }).describe('PasswordResetRequestInput');
export type PasswordResetRequestInput = z.infer<typeof PasswordResetRequestInput>;

export const PasswordResetConfirmInput = z
  .strictObject({ token: linkToken, password: newPassword })
  .describe('PasswordResetConfirmInput');
export type PasswordResetConfirmInput = z.infer<typeof PasswordResetConfirmInput>;

export const ChangePasswordInput = z
  .strictObject({
    currentPassword: z.string().min(1, 'Enter your current password.').max(PASSWORD_MAX_LENGTH),
    newPassword,
  })
  .describe('ChangePasswordInput');
export type ChangePasswordInput = z.infer<typeof ChangePasswordInput>;

/** Starts a change of e-mail address: the new address gets a confirmation link; nothing changes until it is opened. */
export const EmailChangeInput = z
  .strictObject({
    newEmail: email,
    currentPassword: z.string().min(1, 'Enter your current password.').max(PASSWORD_MAX_LENGTH),
  })
  .describe('EmailChangeInput');
export type EmailChangeInput = z.infer<typeof EmailChangeInput>;

export const EmailChangeConfirmInput = z.strictObject({ token: linkToken }).describe('EmailChangeConfirmInput');
export type EmailChangeConfirmInput = z.infer<typeof EmailChangeConfirmInput>;

export const SessionIdParam = z.strictObject({ id: z.uuid({ message: 'Session id must be a UUID.' }) });

export const UserDto = z
  .object({
    id: z.uuid(),
    email: z.string(),
    displayName: z.string(),
    role: z.enum(PLATFORM_ROLES),
    emailVerified: z.boolean(),
    createdAt: z.iso.datetime(),
  })
  .describe('User');
export type UserDto = z.infer<typeof UserDto>;
export const UserEnvelope = z.object({ user: UserDto }).describe('UserEnvelope');
export type UserEnvelope = z.infer<typeof UserEnvelope>;

export const AuthResult = z
  .object({
    user: UserDto,
    accessToken: z.string(),
    /** Seconds until the access token expires. */
    expiresIn: z.number().int(),
    refreshToken: z.string(),
    sessionId: z.uuid(),
  })
  .describe('AuthResult');
export type AuthResult = z.infer<typeof AuthResult>;

export const SessionDto = z
  .object({
    id: z.uuid(),
    current: z.boolean(),
    userAgent: z.string().nullable(),
    ip: z.string().nullable(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
  })
  .describe('Session');
export type SessionDto = z.infer<typeof SessionDto>;

export const SessionList = z.object({ data: z.array(SessionDto) }).describe('SessionList');
export type SessionList = z.infer<typeof SessionList>;

export const OutboxMessageDto = z
  .object({
    id: z.uuid(),
    to: z.string(),
    subject: z.string(),
    body: z.string(),
    createdAt: z.iso.datetime(),
    sentAt: z.iso.datetime().nullable(),
  })
  .describe('OutboxMessage');
export type OutboxMessageDto = z.infer<typeof OutboxMessageDto>;
export const OutboxList = z.object({ data: z.array(OutboxMessageDto) }).describe('OutboxList');
export type OutboxList = z.infer<typeof OutboxList>;

/** Name of the httpOnly cookie that carries the refresh token for browsers. */
export const REFRESH_COOKIE = 'edulure_refresh';
