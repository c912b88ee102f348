import { ERROR_BITS } from "../alarms/error-bits.ts";

export interface ErrorBitCount {
  bit: number;
  /** The documented meaning (docs/alarms.md), or `unknown`. */
  name: string;
  /** Readings with this bit set. */
  count: number;
}

/** How many readings carried each error bit, lowest bit first; bits never set are left out. */
export function countErrorBits(err: ArrayLike<number>): ErrorBitCount[] {
  const counts = new Array<number>(32).fill(0);
  for (let i = 0; i < err.length; i++) {
    let bits = err[i]! >>> 0;
    while (bits !== 0) {
      const lowest = bits & -bits;
      counts[31 - Math.clz32(lowest)]! += 1;
      bits ^= lowest;
    }
  }
  const result: ErrorBitCount[] = [];
  counts.forEach((count, position) => {
    if (count === 0) return;
    const bit = 2 ** position;
    result.push({ bit, name: ERROR_BITS.find((known) => known.bit === bit)?.name ?? "unknown", count });
  });
  return result;
}
