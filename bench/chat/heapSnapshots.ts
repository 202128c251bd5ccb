/**
 * BENCH_HEAP_PROFILE=1: each server writes a V8 heap snapshot (after a forced GC) before the clients connect and
 * again once they have joined; the difference, grouped by constructor or closure name and divided by the node's
 * connections, says what a connection costs and where. Diagnosis only: snapshots pause the servers for seconds.
 */
import { readFile } from 'node:fs/promises';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

async function sizesByName(file: string): Promise<Map<string, { bytes: number; count: number }>> {
  const snap = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const sizes = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const rawName = snap.strings[snap.nodes[i + nameAt]!] ?? '';
    // Strings and code are grouped by kind; objects by constructor; closures by function name.
    const name = type === 'object' || type === 'closure' ? `${type} ${rawName.slice(0, 60) || '(anonymous)'}` : `(${type})`;
    const entry = sizes.get(name) ?? { bytes: 0, count: 0 };
    entry.bytes += snap.nodes[i + sizeAt]!;
    entry.count++;
    sizes.set(name, entry);
  }
  return sizes;
}

export async function heapGrowthPerConnection(beforeFile: string, afterFile: string, connections: number, top = 20) {
  const [before, after] = [await sizesByName(beforeFile), await sizesByName(afterFile)];
  const rows = [...after].map(([name, a]) => {
    const b = before.get(name) ?? { bytes: 0, count: 0 };
    return { name, bytesPerConnection: +((a.bytes - b.bytes) / connections).toFixed(1), objectsPerConnection: +((a.count - b.count) / connections).toFixed(2) };
  });
  const total = rows.reduce((n, r) => n + r.bytesPerConnection, 0);
  return { totalBytesPerConnection: Math.round(total), top: rows.sort((x, y) => y.bytesPerConnection - x.bytesPerConnection).slice(0, top) };
}
