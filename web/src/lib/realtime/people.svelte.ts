/* eslint-disable svelte/prefer-svelte-reactivity -- each set is replaced, never mutated, once published through $state. */
import { createContext } from 'svelte';
import type { AckResult } from '$contracts/errors.ts';
import type { Relationship } from '$contracts/feed.ts';
import { chatErrorMessage } from './ack.ts';
import { callApi } from './restClient.ts';

export type Relation = 'follow' | 'mute' | 'block';

type Call = <T>(method: 'GET' | 'POST' | 'DELETE', path: string) => Promise<AckResult<T>>;

const FIELD: Record<Relation, 'following' | 'muted' | 'blocked'> = { follow: 'following', mute: 'muted', block: 'blocked' };

/**
 * Where the signed-in person stands with the people whose profile cards they open: loaded when a card opens, then
 * kept in step with what they change here. Muting or blocking someone also hides their content from the open feed.
 */
export class PeopleStore {
  relationships = $state.raw<Record<string, Relationship>>({});
  /** People whose content should not show (muted or blocked from this tab). */
  muted = $state.raw<ReadonlySet<string>>(new Set());
  blocked = $state.raw<ReadonlySet<string>>(new Set());

  #call: Call;

  constructor(call: Call = callApi) {
    this.#call = call;
  }

  /** Loads (again) where we stand with someone. Returns an error message or null. */
  async load(userId: string): Promise<string | null> {
    const result = await this.#call<Relationship>('GET', `users/${userId}/relationship`);
    if (!result.ok) return chatErrorMessage(result.error);
    this.#put(result.data);
    return null;
  }

  get(userId: string): Relationship | null {
    return this.relationships[userId] ?? null;
  }

  has(relation: Relation, userId: string): boolean {
    return this.relationships[userId]?.[FIELD[relation]] ?? false;
  }

  /** Follows, mutes or blocks someone (or undoes it). Returns an error message or null. */
  async set(relation: Relation, userId: string, on: boolean): Promise<string | null> {
    const result = await this.#call<void>(on ? 'POST' : 'DELETE', `users/${userId}/${relation}`);
    if (!result.ok) return chatErrorMessage(result.error);
    const current = this.relationships[userId] ?? {
      userId,
      following: false,
      followsMe: false,
      muted: false,
      blocked: false,
      followerCount: 0,
      followingCount: 0,
    };
    const next = { ...current, [FIELD[relation]]: on };
    if (relation === 'follow' && current.following !== on) next.followerCount = Math.max(0, current.followerCount + (on ? 1 : -1));
    this.#put(next);
    return null;
  }

  #put(relationship: Relationship): void {
    const { userId } = relationship;
    this.relationships = { ...this.relationships, [userId]: relationship };
    this.muted = toggled(this.muted, userId, relationship.muted);
    this.blocked = toggled(this.blocked, userId, relationship.blocked);
  }
}

function toggled(set: ReadonlySet<string>, id: string, on: boolean): ReadonlySet<string> {
  if (set.has(id) === on) return set;
  const next = new Set(set);
  if (on) next.add(id);
  else next.delete(id);
  return next;
}

/** Lets profile cards anywhere under /app share one store. */
export const [getPeople, setPeople] = createContext<PeopleStore>();
