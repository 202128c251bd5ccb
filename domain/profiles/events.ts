/*
 * Profiles' domain events. A profile change is emitted after commit and also recorded durably (deps.events.record) in
 * its transaction, so whatever shows people by name (search, directories) follows it even if the node dies right
 * after the commit.
 */
declare module '../shared/events.ts' {
  interface DomainEvents {
    /** Someone changed their display name, headline or bio (the avatar is not part of it). */
    'profile.updated': { userId: string };
  }
}

export {};
