/** What the nodes report about themselves on /metrics: open sockets, and presence:watch calls by outcome. */
import { sleep } from '../chat/processes.ts';

export interface NodeMetrics {
  openSockets: number | null;
  watchEvents: Record<string, number>;
}

function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [, key, value] of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
  return labels;
}

export function parseNodeMetrics(text: string): NodeMetrics {
  const result: NodeMetrics = { openSockets: null, watchEvents: {} };
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{([^}]*)\})? ([\d.e+-]+)$/.exec(line);
    if (!match) continue;
    const [, name, labels, value] = match;
    if (name === 'edulure_socket_connections_open') result.openSockets = Number(value);
    if (name === 'edulure_socket_events_total') {
      const { event, outcome } = labelsOf(labels ?? '');
      if (event === 'presence:watch' && outcome) result.watchEvents[outcome] = Number(value);
    }
  }
  return result;
}

export async function readNodeMetrics(urls: string[]): Promise<NodeMetrics[]> {
  return Promise.all(
    urls.map(async (url) => {
      try {
        return parseNodeMetrics(await (await fetch(`${url}/metrics`)).text());
      } catch {
        return { openSockets: null, watchEvents: {} };
      }
    }),
  );
}

/** Until every node counts no open socket; false if that does not happen within `timeoutMs`. */
export async function waitForNoSockets(urls: string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const metrics = await readNodeMetrics(urls);
    if (metrics.every((m) => m.openSockets === 0)) return true;
    await sleep(250);
  }
  return false;
}
