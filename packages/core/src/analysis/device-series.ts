import type { ArchiveReading } from "./archive-format.ts";

/**
 * One device's readings as columns, in time order: a day of 8640 readings for hundreds of
 * devices fits in typed arrays, where objects would take ten times the memory. Missing
 * temp/humi/bat/rssi are NaN.
 */
export interface DeviceSeries {
  sn: string;
  length: number;
  at: Float64Array;
  seq: Float64Array;
  value: Float64Array;
  vRaw: Float64Array;
  temp: Float64Array;
  bat: Float64Array;
  rssi: Float64Array;
  err: Uint32Array;
  flags: Uint8Array;
}

type Column = Exclude<keyof DeviceSeries, "sn" | "length">;
const FLOAT_COLUMNS = ["at", "seq", "value", "vRaw", "temp", "bat", "rssi"] as const;

class SeriesBuilder {
  length = 0;
  /** False once a reading came before the previous one (files given out of day order). */
  ordered = true;
  private columns: Omit<DeviceSeries, "sn" | "length">;

  constructor(readonly sn: string, capacity: number) {
    this.columns = allocate(capacity);
  }

  add(r: ArchiveReading): void {
    if (this.length === this.columns.at.length) this.columns = grow(this.columns, this.length, this.length * 2);
    const i = this.length++;
    const c = this.columns;
    if (i > 0 && (r.at < c.at[i - 1]! || (r.at === c.at[i - 1]! && r.seq < c.seq[i - 1]!))) this.ordered = false;
    c.at[i] = r.at;
    c.seq[i] = r.seq;
    c.value[i] = r.ppm;
    c.vRaw[i] = r.vRaw;
    c.temp[i] = r.temp ?? Number.NaN;
    c.bat[i] = r.bat ?? Number.NaN;
    c.rssi[i] = r.rssi ?? Number.NaN;
    c.err[i] = r.err;
    c.flags[i] = r.flags;
  }

  build(): DeviceSeries {
    const trimmed = grow(this.columns, this.length, this.length);
    const series: DeviceSeries = { sn: this.sn, length: this.length, ...trimmed };
    return this.ordered ? series : sortedByTime(series);
  }
}

/** Gathers readings of any number of devices and files into one series per device. */
export class SeriesCollector {
  private builders = new Map<string, SeriesBuilder>();
  private last: SeriesBuilder | undefined;

  /** `expectedRows` (from a manifest) saves the copies of growing. */
  add(reading: ArchiveReading, expectedRows = 1024): void {
    // Rows come grouped by sn: the same builder again, without a map look-up.
    let builder = this.last?.sn === reading.sn ? this.last : this.builders.get(reading.sn);
    if (!builder) {
      builder = new SeriesBuilder(reading.sn, Math.max(16, expectedRows));
      this.builders.set(reading.sn, builder);
    }
    this.last = builder;
    builder.add(reading);
  }

  get rows(): number {
    let rows = 0;
    for (const builder of this.builders.values()) rows += builder.length;
    return rows;
  }

  /** Every device's series, ordered by sn (byte order, as the archive is). */
  build(): DeviceSeries[] {
    return [...this.builders.values()].sort((a, b) => (a.sn < b.sn ? -1 : a.sn > b.sn ? 1 : 0)).map((builder) => builder.build());
  }
}

/** A series from plain readings (tests, small inputs). */
export function seriesOf(readings: readonly ArchiveReading[]): DeviceSeries[] {
  const collector = new SeriesCollector();
  for (const reading of readings) collector.add(reading);
  return collector.build();
}

function allocate(capacity: number): Omit<DeviceSeries, "sn" | "length"> {
  return {
    at: new Float64Array(capacity), seq: new Float64Array(capacity), value: new Float64Array(capacity), vRaw: new Float64Array(capacity),
    temp: new Float64Array(capacity), bat: new Float64Array(capacity), rssi: new Float64Array(capacity),
    err: new Uint32Array(capacity), flags: new Uint8Array(capacity),
  };
}

function grow(columns: Omit<DeviceSeries, "sn" | "length">, used: number, capacity: number): Omit<DeviceSeries, "sn" | "length"> {
  const next = allocate(capacity);
  for (const key of Object.keys(next) as Column[]) (next[key] as Float64Array).set((columns[key] as Float64Array).subarray(0, used));
  return next;
}

function sortedByTime(series: DeviceSeries): DeviceSeries {
  const order = Array.from({ length: series.length }, (_, i) => i).sort((a, b) => series.at[a]! - series.at[b]! || series.seq[a]! - series.seq[b]!);
  const sorted = allocate(series.length);
  for (const key of [...FLOAT_COLUMNS, "err", "flags"] as const) {
    const from = series[key];
    const to = sorted[key];
    for (let i = 0; i < order.length; i++) to[i] = from[order[i]!]!;
  }
  return { sn: series.sn, length: series.length, ...sorted };
}
