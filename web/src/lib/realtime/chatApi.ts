import type { MessageDto, MessageList } from '$contracts/chat.ts';
import type { HistoryPage, HistoryQuery } from './channel.svelte.ts';

/** Browser-side calls to the web server's chat endpoints (which call the API with the session's token). */
async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
  const type = response.headers.get('content-type') ?? '';
  const body: unknown = type.includes('application/json') ? await response.json().catch(() => null) : null;
  if (!response.ok || body === null) {
    const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
    throw new Error(typeof message === 'string' ? message : `The request failed (HTTP ${response.status}).`);
  }
  return body as T;
}

export function fetchHistory(channelId: string, query: HistoryQuery): Promise<HistoryPage> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  return getJson<HistoryPage>(`/app/api/channels/${encodeURIComponent(channelId)}/messages?${params}`);
}

export async function fetchThread(messageId: string): Promise<MessageDto[]> {
  const body = await getJson<MessageList>(`/app/api/messages/${encodeURIComponent(messageId)}/thread`);
  return body.data;
}
