import type { EntitlementEvent, GrantType, OrderDto, OrderStatus } from '$contracts/commerce.ts';
import type { AppSocket } from './connection.svelte.ts';
import { callApi } from './restClient.ts';

type CommerceSocket = Pick<AppSocket, 'on' | 'off' | 'connected'>;

/** How far along an order is: an update that would move it back (a late 'pending') is stale and ignored. */
const STAGE: Record<OrderStatus, number> = {
  pending: 0,
  failed: 1,
  expired: 1,
  paid: 2,
  partially_refunded: 3,
  disputed: 3,
  refunded: 4,
};

/** Whether `next` is at least as new as `current` (the server never moves an order backwards). */
export function isNewerOrder(current: OrderDto, next: OrderDto): boolean {
  if (next.id !== current.id) return false;
  if (STAGE[next.status] !== STAGE[current.status]) return STAGE[next.status] > STAGE[current.status];
  return next.refundedMinor >= current.refundedMinor;
}

async function latestOrder(orderId: string): Promise<OrderDto | null> {
  const result = await callApi<OrderDto>('GET', `orders/${orderId}`);
  return result.ok ? result.data : null;
}

export interface OrderFollowerOptions {
  initial: OrderDto;
  /** While the order is pending, ask the API this often as well (a missed event or a socket that never came up). */
  pollMs?: number;
  /** Seam for tests. */
  fetchLatest?: (orderId: string) => Promise<OrderDto | null>;
}

/**
 * One order as it settles: 'order:updated' reaches the buyer's every tab; while the order is still pending the API is
 * asked too, and after a reconnect once, so the page never waits on an event it missed.
 */
export class OrderFollower {
  order = $state.raw<OrderDto>() as OrderDto;
  live = $state(false);

  #socket: CommerceSocket | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #pollMs: number;
  #fetchLatest: NonNullable<OrderFollowerOptions['fetchLatest']>;
  #onUpdated = (order: OrderDto) => this.apply(order);
  #onConnect = () => {
    this.live = true;
    void this.refresh();
  };
  #onDisconnect = () => {
    this.live = false;
  };

  constructor(options: OrderFollowerOptions) {
    this.order = options.initial;
    this.#pollMs = options.pollMs ?? 2_000;
    this.#fetchLatest = options.fetchLatest ?? latestOrder;
  }

  apply(order: OrderDto): void {
    if (isNewerOrder(this.order, order)) this.order = order;
  }

  async refresh(): Promise<void> {
    const latest = await this.#fetchLatest(this.order.id);
    if (latest) this.apply(latest);
  }

  attach(socket: CommerceSocket): void {
    if (this.#socket === socket) return;
    this.#unlisten();
    this.#socket = socket;
    socket.on('order:updated', this.#onUpdated);
    socket.on('connect', this.#onConnect);
    socket.on('disconnect', this.#onDisconnect);
    this.live = socket.connected;
  }

  /** Polls while pending; stops by itself once the order settled. */
  startPolling(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.order.status !== 'pending') this.stopPolling();
      else void this.refresh();
    }, this.#pollMs);
  }

  stopPolling(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  detach(): void {
    this.stopPolling();
    this.#unlisten();
  }

  #unlisten(): void {
    const socket = this.#socket;
    if (socket) {
      socket.off('order:updated', this.#onUpdated);
      socket.off('connect', this.#onConnect);
      socket.off('disconnect', this.#onDisconnect);
    }
    this.#socket = null;
    this.live = false;
  }
}

/**
 * Calls `onChange` when the user gains or loses one thing (a course, ebook, class ticket or tier) on any device; the
 * page reloads its data then. Returns the unsubscribe.
 */
export function followEntitlement(
  socket: CommerceSocket,
  resourceType: GrantType,
  resourceIds: readonly string[],
  onChange: (granted: boolean, event: EntitlementEvent) => void,
): () => void {
  const matches = (event: EntitlementEvent) => event.resourceType === resourceType && resourceIds.includes(event.resourceId);
  const granted = (event: EntitlementEvent) => matches(event) && onChange(true, event);
  const revoked = (event: EntitlementEvent) => matches(event) && onChange(false, event);
  socket.on('entitlement:granted', granted);
  socket.on('entitlement:revoked', revoked);
  return () => {
    socket.off('entitlement:granted', granted);
    socket.off('entitlement:revoked', revoked);
  };
}
