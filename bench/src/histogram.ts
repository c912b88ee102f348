/**
 * A latency histogram in milliseconds with logarithmic buckets (each 2 % wider than the
 * previous, from 0.05 ms up to ~17 min): fixed memory (a few KB, so it does not distort the
 * RSS of the process it lives in), mergeable across processes, percentiles within 2 %.
 */
const MIN_MS = 0.05;
const GROWTH = 1.02;
const BUCKETS = 900; // 0.05 × 1.02^900 ≈ 2.8e6 ms
const LOG_GROWTH = Math.log(GROWTH);

export interface HistogramData {
  counts: number[];
  count: number;
  sum: number;
  max: number;
}

export class Histogram {
  private counts = new Uint32Array(BUCKETS + 1);
  count = 0;
  sum = 0;
  max = 0;

  record(ms: number): void {
    const value = ms > 0 ? ms : 0;
    const index = value <= MIN_MS ? 0 : Math.min(BUCKETS, Math.ceil(Math.log(value / MIN_MS) / LOG_GROWTH));
    this.counts[index]!++;
    this.count++;
    this.sum += value;
    if (value > this.max) this.max = value;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = 0;
  }

  /** The upper bound of the bucket holding the q-quantile (q in 0…1); 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, MIN_MS * GROWTH ** i);
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  toJSON(): HistogramData {
    return { counts: Array.from(this.counts), count: this.count, sum: this.sum, max: this.max };
  }

  static from(data: HistogramData): Histogram {
    const histogram = new Histogram();
    histogram.merge(data);
    return histogram;
  }

  merge(data: HistogramData): void {
    data.counts.forEach((n, i) => (this.counts[i]! += n));
    this.count += data.count;
    this.sum += data.sum;
    this.max = Math.max(this.max, data.max);
  }
}

/**
 * The publish time a bench publisher writes into each reading as `"pt":<epoch ms>` (the
 * worker's schema ignores unknown fields). Scans the bytes instead of parsing the JSON, so
 * the measurement costs next to nothing in the process under test. NaN if absent.
 */
const PT = Buffer.from('"pt":');
export function publishTimeOf(payload: Buffer): number {
  const at = payload.lastIndexOf(PT);
  if (at < 0) return Number.NaN;
  let value = 0;
  let i = at + PT.length;
  let digits = 0;
  for (; i < payload.length; i++) {
    const c = payload[i]!;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
    digits++;
  }
  return digits > 0 ? value : Number.NaN;
}
