/** Percentiles over latency samples gathered from several load-generator processes. */
export interface Distribution {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function merge(parts: Float64Array[]): Float64Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Float64Array(total);
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  return all.sort();
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

const round = (v: number, digits = 2) => (Number.isFinite(v) ? +v.toFixed(digits) : null);

export function distribution(parts: Float64Array[]): Distribution & Record<string, number | null> {
  const sorted = merge(parts);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50))!,
    p95: round(percentile(sorted, 95))!,
    p99: round(percentile(sorted, 99))!,
    max: round(sorted.length ? sorted[sorted.length - 1]! : NaN)!,
  };
}

/** Deterministic PRNG (mulberry32) so both sides get exactly the same message schedule. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
