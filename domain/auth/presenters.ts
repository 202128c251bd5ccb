import type { SessionDto, UserDto } from '../../contracts/auth.ts';
import type { IUser, ISession } from '../../orm/entities/index.ts';

export function presentUser(user: Pick<IUser, 'id' | 'email' | 'displayName' | 'role' | 'emailVerifiedAt' | 'createdAt'>): UserDto {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    emailVerified: user.emailVerifiedAt != null,
    createdAt: user.createdAt.toISOString(),
  };
}

export function presentSession(session: ISession, currentSessionId: string): SessionDto {
  return {
    id: session.id,
    current: session.id === currentSessionId,
    userAgent: session.userAgent ?? null,
    ip: session.ip ?? null,
    createdAt: session.createdAt.toISOString(),
    lastUsedAt: session.lastUsedAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
  };
}
