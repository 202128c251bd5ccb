import type { AckResult } from '$contracts/errors.ts';
import type { EbookEnvelope, EbookPositionEvent, PositionEnvelope, ReadingPositionDto } from '$contracts/ebooks.ts';
import type { ChatSocket } from './ack.ts';
import { callApi } from './restClient.ts';

/** Places this close (in characters, a few lines) in one chapter are the same place to a reader. */
const SAME_PLACE = 300;

export interface ReadingSpot {
  chapterId: string;
  offset: number;
}

export interface EbookPositionOptions {
  ebookId: string;
  /** The saved position the page loaded with. */
  initial: ReadingPositionDto | null;
  /** Quiet time after the last scroll before the place is saved. */
  debounceMs?: number;
  /** Seams for tests. */
  save?: (ebookId: string, spot: ReadingSpot, keepalive: boolean) => Promise<AckResult<PositionEnvelope>>;
  fetchLatest?: (ebookId: string) => Promise<ReadingPositionDto | null>;
}

/** PUT through the web server's narrow position door (the shared pass-through has no PUT). */
async function savePosition(ebookId: string, spot: ReadingSpot, keepalive: boolean): Promise<AckResult<PositionEnvelope>> {
  try {
    const response = await fetch(`/app/ebooks/${ebookId}/position`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(spot),
      credentials: 'same-origin',
      keepalive,
    });
    const payload = (await response.json().catch(() => undefined)) as unknown;
    if (response.ok) return { ok: true, data: payload as PositionEnvelope };
    const error = (payload as { error?: { code: string; message: string } } | undefined)?.error;
    return { ok: false, error: { code: (error?.code as never) ?? 'internal', message: error?.message ?? `HTTP ${response.status}` } };
  } catch {
    return { ok: false, error: { code: 'unavailable', message: 'Edulure is not reachable right now.' } };
  }
}

async function latestPosition(ebookId: string): Promise<ReadingPositionDto | null> {
  const result = await callApi<EbookEnvelope>('GET', `ebooks/${ebookId}`);
  return result.ok ? result.data.ebook.myPosition : null;
}

/**
 * One reader's place in one ebook, kept on every device: saves the place (debounced) as the reader scrolls, and
 * hears the saves of the reader's other devices ('ebook:position_updated' in their own room). The latest `updatedAt`
 * wins; a place saved elsewhere after ours is offered as `elsewhere` until the reader goes there or dismisses it.
 * After a reconnect it asks the API once for the latest place, in case an event was missed.
 */
export class EbookPositionSync {
  readonly ebookId: string;
  /** The newest place known (ours or another device's). */
  latest = $state.raw<ReadingPositionDto | null>(null);
  /** A newer place from another device, differing from where this tab is. */
  elsewhere = $state.raw<ReadingPositionDto | null>(null);
  saveError = $state<string | null>(null);

  #debounceMs: number;
  #save: NonNullable<EbookPositionOptions['save']>;
  #fetchLatest: NonNullable<EbookPositionOptions['fetchLatest']>;
  #socket: ChatSocket | null = null;
  #here: ReadingSpot | null = null;
  #pending: ReadingSpot | null = null;
  /** Places this tab saved lately: their echo from the server is not news from another device. */
  #sent: string[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #onEvent = (event: EbookPositionEvent) => {
    if (event.ebookId !== this.ebookId) return;
    this.#consider({ chapterId: event.chapterId, offset: event.offset, updatedAt: event.updatedAt });
  };
  #onConnect = () => void this.#catchUp();

  constructor(options: EbookPositionOptions) {
    this.ebookId = options.ebookId;
    this.latest = options.initial;
    this.#debounceMs = options.debounceMs ?? 1500;
    this.#save = options.save ?? savePosition;
    this.#fetchLatest = options.fetchLatest ?? latestPosition;
  }

  attach(socket: ChatSocket): void {
    if (this.#socket === socket) return;
    this.detach();
    this.#socket = socket;
    socket.on('ebook:position_updated', this.#onEvent);
    socket.on('connect', this.#onConnect);
  }

  detach(): void {
    this.#socket?.off('ebook:position_updated', this.#onEvent);
    this.#socket?.off('connect', this.#onConnect);
    this.#socket = null;
  }

  /** Where this tab is now; saved once the reader has stayed put for a moment. */
  moved(spot: ReadingSpot): void {
    this.#here = spot;
    const latest = this.latest;
    if (latest && latest.chapterId === spot.chapterId && latest.offset === spot.offset) return;
    this.#pending = spot;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.flush(), this.#debounceMs);
  }

  /** Saves a pending place now (leaving the page, changing chapter). */
  async flush(keepalive = false): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const spot = this.#pending;
    if (!spot) return;
    this.#pending = null;
    this.#sent = [...this.#sent.slice(-9), `${spot.chapterId}:${spot.offset}`];
    const result = await this.#save(this.ebookId, spot, keepalive);
    if (result.ok) {
      this.saveError = null;
      const saved = result.data.position;
      if (!this.latest || saved.updatedAt >= this.latest.updatedAt) this.latest = saved;
    } else {
      this.saveError = 'Your place could not be saved just now; it is saved again as you read.';
    }
  }

  /** The reader went to the other device's place, or does not want to. */
  dismiss(): void {
    this.elsewhere = null;
  }

  destroy(): void {
    void this.flush(true);
    this.detach();
  }

  #consider(position: ReadingPositionDto): void {
    if (this.latest && position.updatedAt <= this.latest.updatedAt) return;
    this.latest = position;
    if (this.#sent.includes(`${position.chapterId}:${position.offset}`)) return;
    const here = this.#here;
    const same = here && here.chapterId === position.chapterId && Math.abs(here.offset - position.offset) < SAME_PLACE;
    this.elsewhere = same ? null : position;
  }

  async #catchUp(): Promise<void> {
    const position = await this.#fetchLatest(this.ebookId);
    if (position) this.#consider(position);
  }
}
