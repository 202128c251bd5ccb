import type { Logger } from '../../orm/database.ts';
import { enqueueJob, type JobHandler, type JobInfo, type JobSource } from './jobs.ts';

/*
 * Domain events: an operation says what happened; whoever cares listens. The operation never learns who that is.
 *
 * Declaring. Each feature declares its events in its own `domain/<feature>/events.ts`, merging into `DomainEvents`,
 * so adding an event never edits a shared file:
 *
 *     declare module '../shared/events.ts' {
 *       interface DomainEvents { 'post.created': { post: PostDto } }
 *     }
 *
 * Names are `<thing>.<past tense>`; a payload carries what listeners need without loading it again.
 *
 * Emitting. `await deps.events.emit(name, payload)` AFTER the transaction has committed — never inside it, or a
 * rollback would announce something that did not happen. Listeners run in registration order and synchronously up
 * to their first await, so the events of one operation reach a room in the order they were emitted. Each listener is
 * isolated: one that throws is logged with the event name, and the operation and the other listeners carry on.
 * `emit` never rejects; it resolves once every listener has finished.
 *
 * Listening. Listeners are registered once, in composition (server/node.ts), never in an operation: the client
 * publisher (one `register<Feature>ClientEvents(bus, publisher)` per feature, in `domain/<feature>/clientEvents.ts`,
 * turning domain events into today's wire events and rooms), metrics (a counter per event name), and later
 * notifications and search indexing. Adding a listener touches no operation.
 *
 * Surviving a crash. An in-process listener is lost if the node dies between commit and emit. Work that must happen
 * anyway (notifications, search indexing, e-mail) is recorded INSIDE the transaction with
 * `deps.events.record(tx, name, payload)` (`tx`, or `db(tx)`): one job per durable listener (`bus.onDurable`),
 * committed or rolled back together with the change, run by the job runner on some node with retries and backoff. A
 * durable listener may run more than once (a retry after a crash), so it is idempotent; its payload travels as JSON,
 * so it carries ids and plain values (dates as ISO strings). One that keeps failing leaves its job visible as failed
 * (domain/shared/jobs.ts).
 */

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by each feature's events.ts
export interface DomainEvents {}

export type DomainEventName = keyof DomainEvents & string;
export type DomainEventListener<E extends DomainEventName> = (payload: DomainEvents[E]) => void | Promise<void>;
/** Sees every event (metrics, audit trails): the payload is whichever event's, so it is read as `unknown`. */
export type AnyDomainEventListener = (name: DomainEventName, payload: unknown) => void | Promise<void>;
export type DurableEventListener<E extends DomainEventName> = (payload: DomainEvents[E], job: JobInfo) => Promise<void>;

declare module './jobs.ts' {
  interface JobPayloads {
    /** One durable listener's delivery of one recorded event. */
    'domain-event': { event: DomainEventName; listener: string; payload: unknown };
  }
}

export interface EventBus {
  /** After commit. Never rejects; resolves when every listener has finished. */
  emit<E extends DomainEventName>(name: E, payload: DomainEvents[E]): Promise<void>;
  /** Returns the unsubscribe. */
  on<E extends DomainEventName>(name: E, listener: DomainEventListener<E>): () => void;
  onAny(listener: AnyDomainEventListener): () => void;
  /**
   * Inside the transaction (`tx`, or the typed builder bound to it, `db(tx)`): queues one job per durable listener of
   * `name`, so each runs iff the transaction commits, even if this node dies right after. Without durable listeners
   * nothing is written.
   */
  record<E extends DomainEventName>(tx: JobSource, name: E, payload: DomainEvents[E]): Promise<void>;
  /**
   * `listener` names the listener across nodes and deploys (e.g. 'notifyFollowers'); it is stored in the queued jobs,
   * so renaming it strands the jobs already queued under the old name (they fail visibly).
   */
  onDurable<E extends DomainEventName>(
    name: E,
    listener: string,
    handler: DurableEventListener<E>,
    options?: { maxAttempts?: number },
  ): void;
  /** The job task that runs durable listeners; the job runner is handed it as the 'domain-event' task. */
  deliverDurable: JobHandler<'domain-event'>;
}

interface Subscription {
  /** null: every event. */
  name: DomainEventName | null;
  listener: (payload: unknown, name: DomainEventName) => void | Promise<void>;
}

interface DurableSubscription {
  event: DomainEventName;
  listener: string;
  handler: DurableEventListener<DomainEventName>;
  maxAttempts: number | undefined;
}

export function createEventBus(logger: Logger): EventBus {
  // Replaced, never mutated: an emit in progress keeps the list it started with when a listener unsubscribes.
  let subscriptions: readonly Subscription[] = [];
  const durable = new Map<string, DurableSubscription>();
  const durableKey = (event: string, listener: string) => `${event}\u0000${listener}`;

  const subscribe = (subscription: Subscription) => {
    subscriptions = [...subscriptions, subscription];
    return () => {
      subscriptions = subscriptions.filter((s) => s !== subscription);
    };
  };
  const reportFailure = (name: DomainEventName, err: unknown) =>
    logger.error({ event: name, err: String(err) }, 'domain event listener failed');

  return {
    async emit(name, payload) {
      const pending: Promise<void>[] = [];
      for (const subscription of subscriptions) {
        if (subscription.name !== null && subscription.name !== name) continue;
        try {
          const result = subscription.listener(payload, name);
          if (result) pending.push(result.catch((err: unknown) => reportFailure(name, err)));
        } catch (err) {
          reportFailure(name, err);
        }
      }
      if (pending.length) await Promise.all(pending);
    },
    on(name, listener) {
      return subscribe({ name, listener: listener as Subscription['listener'] });
    },
    onAny(listener) {
      return subscribe({ name: null, listener: (payload, name) => listener(name, payload) });
    },
    async record(tx, name, payload) {
      for (const subscription of durable.values()) {
        if (subscription.event !== name) continue;
        await enqueueJob(
          tx,
          'domain-event',
          { event: name, listener: subscription.listener, payload },
          subscription.maxAttempts ? { maxAttempts: subscription.maxAttempts } : {},
        );
      }
    },
    onDurable(name, listener, handler, options = {}) {
      const key = durableKey(name, listener);
      if (durable.has(key)) throw new Error(`durable listener ${listener} of ${name} is registered twice`);
      durable.set(key, {
        event: name,
        listener,
        handler: handler as DurableEventListener<DomainEventName>,
        maxAttempts: options.maxAttempts,
      });
    },
    async deliverDurable(delivery, job) {
      const subscription = durable.get(durableKey(delivery.event, delivery.listener));
      // Thrown, so the job stays visible (retried, then failed) instead of vanishing: another node of a rolling
      // deploy may still know the listener, and a removed one should be noticed rather than silently dropped.
      if (!subscription) throw new Error(`no durable listener ${delivery.listener} of ${delivery.event} on this node`);
      await subscription.handler(delivery.payload as DomainEvents[DomainEventName], job);
    },
  };
}
