/** A run of identical raw values: a live sensor's noise never repeats exactly for long. */
export interface FlatRun {
  from: number;
  to: number;
  samples: number;
  vRaw: number;
}

/** Runs of at least `minSamples` identical v_raw, longest first. */
export function findFlatLines(at: ArrayLike<number>, vRaw: ArrayLike<number>, minSamples: number): FlatRun[] {
  const runs: FlatRun[] = [];
  let start = 0;
  for (let i = 1; i <= vRaw.length; i++) {
    if (i < vRaw.length && vRaw[i] === vRaw[start]) continue;
    const samples = i - start;
    if (samples >= minSamples && vRaw.length > 0) runs.push({ from: at[start]!, to: at[i - 1]!, samples, vRaw: vRaw[start]! });
    start = i;
  }
  return runs.sort((a, b) => b.samples - a.samples || a.from - b.from);
}
