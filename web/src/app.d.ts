import type { UserDto } from '$contracts/auth.ts';
import type { Theme } from '$lib/theme.ts';

declare global {
  namespace App {
    interface Error {
      message: string;
    }
    interface Locals {
      user: UserDto | null;
      accessToken: string | null;
      sessionId: string | null;
      /** The colour theme the browser chose (its cookie), for the first paint. */
      theme: Theme;
    }
  }
}

export {};
