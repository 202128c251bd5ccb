import type { RateLimiter, RateLimiterFactory } from '../shared/stores.ts';

/** Budgets for the account doors that send e-mail or test a password, shared by every node (Redis when clustered). */
export interface AccountLimiters {
  /** Reset links asked for one address: counted alike whether or not it has an account. */
  resetRequestsByEmail: RateLimiter;
  resetRequestsByIp: RateLimiter;
  /** Wrong current passwords on the settings forms; a stolen session cannot guess the password through them. */
  passwordFailuresByUser: RateLimiter;
  /** Confirmation links sent to new addresses by one account. */
  emailChangeRequests: RateLimiter;
}

export const RESET_REQUESTS_PER_EMAIL_PER_HOUR = 3;
export const RESET_REQUESTS_PER_IP_PER_HOUR = 20;
export const PASSWORD_FAILURES_PER_USER = 5;
export const EMAIL_CHANGES_PER_HOUR = 5;

export function createAccountLimiters(factory: RateLimiterFactory): AccountLimiters {
  return {
    resetRequestsByEmail: factory({ keyPrefix: 'reset-email', points: RESET_REQUESTS_PER_EMAIL_PER_HOUR, durationSeconds: 3600 }),
    resetRequestsByIp: factory({ keyPrefix: 'reset-ip', points: RESET_REQUESTS_PER_IP_PER_HOUR, durationSeconds: 3600 }),
    passwordFailuresByUser: factory({
      keyPrefix: 'password-fail-user',
      points: PASSWORD_FAILURES_PER_USER,
      durationSeconds: 900,
      blockSeconds: 900,
    }),
    emailChangeRequests: factory({ keyPrefix: 'email-change', points: EMAIL_CHANGES_PER_HOUR, durationSeconds: 3600 }),
  };
}
