/**
 * Noise at the baseline: the standard deviation of first differences between readings
 * that both sit within `band` of the device's median (a leak's rise and fall is signal,
 * not noise). Differences cancel a slow drift that a plain standard deviation would count.
 */
export function baselineNoise(value: ArrayLike<number>, band: number): { std: number | null; samples: number } {
  if (value.length < 3) return { std: null, samples: 0 };
  const sorted = Float64Array.from(value).sort();
  const median = sorted[Math.floor(sorted.length / 2)]!;
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (let i = 1; i < value.length; i++) {
    const a = value[i - 1]!;
    const b = value[i]!;
    if (Math.abs(a - median) > band || Math.abs(b - median) > band) continue;
    // Welford: one pass, no cancellation.
    const d = b - a;
    n++;
    const delta = d - mean;
    mean += delta / n;
    m2 += delta * (d - mean);
  }
  return n < 2 ? { std: null, samples: n } : { std: Math.sqrt(m2 / (n - 1)), samples: n };
}
