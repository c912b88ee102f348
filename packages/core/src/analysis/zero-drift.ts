import { FLAG_BITS } from "./archive-format.ts";

/** A zero drifting below 0 hides leaks: a poisoned sensor can read 0 while gas is there (DOMAIN.md). */
export interface ZeroDrift {
  /** Readings the platform stored as 0 because they were below 0 (`negative` flag). */
  negativeSamples: number;
  negativeShare: number;
  /** The lowest hourly median of the value: the baseline at its lowest (below 0 only where values are stored unclamped). */
  lowestBaseline: number | null;
  drifting: boolean;
}

const HOUR_MS = 3_600_000;

/**
 * `tolerance`: how near 0 a baseline may sit before it counts (the sensor's own zero
 * noise). Drifting when the baseline sank below −tolerance, or when at least `minShare` of
 * the readings were negative and the baseline reached 0 (stored negatives read as 0).
 */
export function zeroDrift(at: ArrayLike<number>, value: ArrayLike<number>, flags: ArrayLike<number>, tolerance: number, minShare = 0.01): ZeroDrift {
  let negativeSamples = 0;
  for (let i = 0; i < flags.length; i++) if ((flags[i]! & FLAG_BITS.negative) !== 0) negativeSamples++;
  const lowestBaseline = lowestHourlyMedian(at, value);
  const negativeShare = at.length === 0 ? 0 : negativeSamples / at.length;
  return {
    negativeSamples,
    negativeShare,
    lowestBaseline,
    // Negative readings around a baseline that stays up are noise (see baselineNoise); drift is the baseline itself at or below 0.
    drifting: lowestBaseline !== null && (lowestBaseline < -tolerance || (negativeShare >= minShare && lowestBaseline <= tolerance)),
  };
}

function lowestHourlyMedian(at: ArrayLike<number>, value: ArrayLike<number>): number | null {
  let lowest: number | null = null;
  let start = 0;
  for (let i = 1; i <= at.length; i++) {
    if (i < at.length && Math.floor(at[i]! / HOUR_MS) === Math.floor(at[start]! / HOUR_MS)) continue;
    const hour = Float64Array.from({ length: i - start }, (_, k) => value[start + k]!).sort();
    if (hour.length > 0) {
      const median = hour[Math.floor(hour.length / 2)]!;
      if (lowest === null || median < lowest) lowest = median;
    }
    start = i;
  }
  return lowest;
}
