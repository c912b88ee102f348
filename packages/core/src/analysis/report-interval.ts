/** A silence in a device's readings. */
export interface DataGap {
  /** ms: the last reading before it (or the start of the window). */
  from: number;
  /** ms: the first reading after it (or the end of the window). */
  to: number;
}

/** The report interval a device really kept: the median gap between readings (robust to gaps and bursts); null with fewer than 2. */
export function medianInterval(at: ArrayLike<number>): number | null {
  if (at.length < 2) return null;
  const gaps = new Float64Array(at.length - 1);
  let n = 0;
  for (let i = 1; i < at.length; i++) {
    const gap = at[i]! - at[i - 1]!;
    if (gap > 0) gaps[n++] = gap;
  }
  if (n === 0) return null;
  const sorted = gaps.subarray(0, n).sort();
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/**
 * Silences longer than `factor` report intervals (a detector silent for 3 intervals is
 * offline, DOMAIN.md), the window's start and end included, longest first.
 */
export function findGaps(at: ArrayLike<number>, intervalMs: number, window: { from: number; to: number }, factor = 3): DataGap[] {
  const limit = intervalMs * factor;
  const gaps: DataGap[] = [];
  let previous = window.from;
  for (let i = 0; i < at.length; i++) {
    const t = at[i]!;
    if (t - previous > limit) gaps.push({ from: previous, to: t });
    previous = Math.max(previous, t);
  }
  if (window.to - previous > limit) gaps.push({ from: previous, to: window.to });
  return gaps.sort((a, b) => b.to - b.from - (a.to - a.from) || a.from - b.from);
}

/** Readings received against readings expected at the interval over the window (at most 1). */
export function completeness(count: number, intervalMs: number, window: { from: number; to: number }): number {
  const expected = Math.max(1, Math.round((window.to - window.from) / intervalMs));
  return Math.min(1, count / expected);
}
