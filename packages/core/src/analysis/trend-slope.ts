const DAY_MS = 86_400_000;

/**
 * The least-squares slope of a value over time, per day (battery volts a day, RSSI dB a
 * day); NaN values are left out. null with fewer than 2 values or no spread in time.
 */
export function slopePerDay(at: ArrayLike<number>, value: ArrayLike<number>): number | null {
  let n = 0;
  let meanT = 0;
  let meanV = 0;
  // Centred on the first time: squares of Unix ms would lose the precision.
  const t0 = at.length > 0 ? at[0]! : 0;
  for (let i = 0; i < at.length; i++) {
    const v = value[i]!;
    if (Number.isNaN(v)) continue;
    n++;
    meanT += (at[i]! - t0 - meanT) / n;
    meanV += (v - meanV) / n;
  }
  if (n < 2) return null;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < at.length; i++) {
    const v = value[i]!;
    if (Number.isNaN(v)) continue;
    const dt = at[i]! - t0 - meanT;
    sxy += dt * (v - meanV);
    sxx += dt * dt;
  }
  return sxx === 0 ? null : (sxy / sxx) * DAY_MS;
}

/** The mean of the values that are not NaN, or null. */
export function meanOf(value: ArrayLike<number>): number | null {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < value.length; i++) {
    const v = value[i]!;
    if (Number.isNaN(v)) continue;
    n++;
    sum += v;
  }
  return n === 0 ? null : sum / n;
}
