import type { UserDto } from '$contracts/auth.ts';

declare global {
  namespace App {
    interface Error {
      message: string;
    }
    interface Locals {
      user: UserDto | null;
      accessToken: string | null;
      sessionId: string | null;
    }
  }
}

export {};
