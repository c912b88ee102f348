/**
 * A trend cut into equal time buckets, each with its min, max and mean: a day of 8640
 * points draws as 288 buckets of 5 minutes and still shows every spike (the max keeps it).
 * A bucket without readings is null, so a chart breaks the line at a gap instead of
 * drawing across it.
 */
export interface TrendBuckets {
  /** ms: start of the first bucket. */
  from: number;
  bucketMs: number;
  min: (number | null)[];
  max: (number | null)[];
  avg: (number | null)[];
}

/** `at` ascending; readings outside [from, to) are left out. */
export function downsampleTrend(at: ArrayLike<number>, value: ArrayLike<number>, from: number, to: number, bucketCount: number): TrendBuckets {
  const count = Math.max(1, Math.floor(bucketCount));
  const bucketMs = Math.max(1, Math.ceil((to - from) / count));
  const min: (number | null)[] = new Array<number | null>(count).fill(null);
  const max: (number | null)[] = new Array<number | null>(count).fill(null);
  const sum = new Float64Array(count);
  const n = new Uint32Array(count);
  for (let i = 0; i < at.length; i++) {
    const t = at[i]!;
    const v = value[i]!;
    if (t < from || t >= to || !Number.isFinite(v)) continue;
    const b = Math.min(count - 1, Math.floor((t - from) / bucketMs));
    const low = min[b];
    const high = max[b];
    if (low === null || low === undefined || v < low) min[b] = v;
    if (high === null || high === undefined || v > high) max[b] = v;
    sum[b]! += v;
    n[b]! += 1;
  }
  const avg = Array.from(n, (samples, b) => (samples === 0 ? null : round(sum[b]! / samples)));
  return { from, bucketMs, min, max, avg };
}

/** Four significant decimals are plenty for a chart and keep the report small. */
function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
